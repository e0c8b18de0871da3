#!/usr/bin/env bash
# The hour a clock goes back is in the day twice: on 2026-10-25 in Europe/Berlin the
# hourly table and charts label it "02:00+02" and "02:00+01", not "02:00" twice; other
# hours, and the 23-hour day of the spring change, keep their plain labels.
# timeout: 60
. "$(dirname "$0")/lib.sh"
need_cmd jq
fixture_clock
"$PGSIFT" -q ingest --no-progress "$SIFT_SOURCE_DIR/tests/fixtures/pg15/statement-log/postgresql.csv"
labels() { "$PGSIFT" report --day "$1" --tz "$2" --format json | jq -r '[.hourly[].label] | join(" ")'; }
expect_eq "25-hour day" "00:00 01:00 02:00+02 02:00+01 03:00 04:00 05:00 06:00 07:00 08:00 09:00 10:00 11:00 12:00 13:00 14:00 15:00 16:00 17:00 18:00 19:00 20:00 21:00 22:00 23:00" \
  "$(labels 2026-10-25 Europe/Berlin)"
expect_eq "23-hour day" "00:00 01:00 03:00 04:00 05:00 06:00 07:00 08:00 09:00 10:00 11:00 12:00 13:00 14:00 15:00 16:00 17:00 18:00 19:00 20:00 21:00 22:00 23:00" \
  "$(labels 2026-03-29 Europe/Berlin)"
"$PGSIFT" report --day 2026-11-01 --tz America/New_York -o day.md
expect_contains "$(cat day.md)" "| 01:00-04 |"
expect_contains "$(cat day.md)" "| 01:00-05 |"
pass
