// Package monitoring is the dashboard's domain: what it watches and keeps,
// and the rules about it, with no SQL and no HTTP. Snapshots of servers and
// their alarm states and how they are counted; accounts and the outcome of
// their polls; the history of changes; acknowledgements and when they end;
// users, API tokens and wall links; saved filters.
//
// The rest plugs in around it: package sqlite stores all of it, package
// poller keeps every account fresh through a Fetcher (package rackspace is
// the real one) and records each poll through a PollWriter, and package
// wall builds the read model the pages show. Upstream errors classify and
// word themselves through the small interfaces behind ErrorKind, Describe
// and RetryAfter.
package monitoring
