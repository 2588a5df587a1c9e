// Package monitoring is the dashboard's own model of what it watches and
// keeps: snapshots of servers and alarm states, accounts with their
// credentials and cached tokens, the SQLite store, the users, and the
// poller that keeps every account fresh. It does not speak any upstream API:
// the poller reads accounts through a Fetcher (package rackspace is the real
// one), and upstream errors classify and word themselves through the small
// interfaces behind ErrorKind, Describe and RetryAfter.
package monitoring
