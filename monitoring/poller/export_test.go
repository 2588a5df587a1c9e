package poller

// HumanDuration is humanDuration, for the tests of the words it picks.
var HumanDuration = humanDuration
