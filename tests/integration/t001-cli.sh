#!/usr/bin/env bash
# The command-line contract of INTERFACE.md: help, version, unknown commands and
# options, exit codes.
. "$(dirname "$0")/lib.sh"

out=$("$PGSIFT" --help)
expect_contains "$out" "usage: pgsift [--db PATH] [-q|-v] COMMAND"
expect_contains "$out" "version"

# Unknown command: exit 2 and name the valid ones.
rc=0; err=$("$PGSIFT" nosuch 2>&1) || rc=$?
expect_eq "exit code of an unknown command" 2 "$rc"
expect_contains "$err" "'nosuch' is not a pgsift command"
expect_contains "$err" "valid commands:"
expect_contains "$err" "version"

# Unknown global option and unknown command option: exit 2 with the valid ones.
rc=0; err=$("$PGSIFT" --bogus version 2>&1) || rc=$?
expect_eq "exit code of an unknown global option" 2 "$rc"
expect_contains "$err" "expected one of: --db"
rc=0; err=$("$PGSIFT" version --bogus 2>&1) || rc=$?
expect_eq "exit code of an unknown command option" 2 "$rc"
expect_contains "$err" "unknown option '--bogus'"
# pgsift's own option after the command (QA 29: the list of valid ones did not say why)
rc=0; err=$("$PGSIFT" ingest --db "$T/x.db" "$T/none.log" 2>&1) || rc=$?
expect_eq "exit code of --db after the command" 2 "$rc"
expect_contains "$err" "'--db' is an option of pgsift itself: put it before the command (pgsift --db PATH COMMAND ...)"

# No command at all is a usage error.
expect_exit 2 "$PGSIFT"

# version names pgsift and every linked library.
out=$("$PGSIFT" version)
for lib in pgsift sqlite zlib libcurl libyaml pcre2 xxhash jansson openssl; do
  expect_contains "$out" "$lib "
done
expect_eq "--version is version" "$out" "$("$PGSIFT" --version)"
expect_not_contains "$out" "not found"
# A library that cannot be loaded (libcurl, libcrypto: loaded on first use) is named with
# the loader's reason, the library it tried included.
out=$(SIFT_TEST_LIBCURL=libsift-none.so.9 "$PGSIFT" version)
expect_contains "$out" "libcurl not found: cannot load libsift-none.so.9: "
expect_contains "$out" "openssl OpenSSL "

# help COMMAND prints that command's usage; help of an unknown command is exit 2.
expect_contains "$("$PGSIFT" help version)" "usage: pgsift version"
expect_exit 2 "$PGSIFT" help nosuch

# The clock honours SIFT_TEST_NOW (rule and report tests depend on it).
expect_eq "SIFT_TEST_NOW (epoch)" "2026-11-24T10:00:00Z" "$(SIFT_TEST_NOW=1795514400 "$SIFT_TEST_TOOL" now)"
expect_eq "SIFT_TEST_NOW (RFC 3339)" "2026-11-24T10:00:00Z" "$(SIFT_TEST_NOW=2026-11-24T11:00:00+01:00 "$SIFT_TEST_TOOL" now)"
pass
