/* SPDX-License-Identifier: MIT */
/*
 * stubs - loopback servers and log readers for delivery tests (sift-test-tool
 * subcommands). All listen on 127.0.0.1 only, on a free port they write to a file, and
 * stop after a bounded number of requests or seconds.
 *
 *   http-stub --port-file F --log F [--script STEP,...] [--max-requests N] [--max-seconds N]
 *       STEP: 200 | 500 | 429:retry-after=2 | 404:echo | timeout | delay=MS:CODE ...
 *       (`:echo` answers "Cannot handle <request line> on <Host>", as many error pages
 *       do, with the last path segment, the decoded query and the Authorization header)
 *       Each request is answered by the next step; the last step repeats. `timeout`
 *       reads the request and never answers (the client must time out). One NDJSON line
 *       per request in the log: n, t_ms (monotonic since start), method, path, headers
 *       (lower-case names), body, answered (the status sent, 0 for none).
 *   smtp-stub --port-file F --log F [--script STEP,...] [--max-requests N] [--max-seconds N]
 *       STEP: 250 (accept) | 451 (transient) | 550 (permanent), answered after DATA.
 *       One NDJSON line per message: n, t_ms, from, rcpt (array), auth, data, answered.
 *   stub-log FILE FIELD          print FIELD of every logged request, one per line
 *                                (n, t_ms, method, path, body, answered, from, data,
 *                                header.NAME, rcpt)
 *   webhook-verify FILE SECRET   check the Standard Webhooks signature of every logged
 *                                request with SECRET ("whsec_..." or raw); prints
 *                                "<n> <webhook-id> ok|BAD" and exits 1 if any is bad
 */
#ifndef SIFT_TESTS_STUBS_H
#define SIFT_TESTS_STUBS_H

int stub_http(int argc, char **argv);
int stub_smtp(int argc, char **argv);
int stub_log(int argc, char **argv);
int stub_webhook_verify(int argc, char **argv);

#endif
