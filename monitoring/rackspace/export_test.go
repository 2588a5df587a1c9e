package rackspace

// LegacyPage is the encoding/json decoder and reducer the streaming one
// replaced (legacy_test.go), for the differential tests.
var LegacyPage = legacyPage
