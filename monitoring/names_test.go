package monitoring_test

import (
	"slices"
	"testing"

	"cmdash/monitoring"
)

func TestNaturalCompare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{"a number orders by its value, not its first digit", "web2", "web10", -1},
		{"a number in the middle of a name", "Customer 6", "Customer 10", -1},
		{"letter case is aside", "customer 6", "Customer 10", -1},
		{"names equal but for case are equal", "Web-1", "web-1", 0},
		{"names equal but for leading zeros are equal", "web01", "web1", 0},
		{"leading zeros do not make a number larger", "web002", "web10", -1},
		{"several numbers are compared one after another", "db1-disk10", "db1-disk9", 1},
		{"a name that starts another comes first", "web", "web1", -1},
		{"letters order as before, case aside", "alpha", "Bravo", -1},
		{"a number longer than any integer still compares", "n123456789012345678901234567890", "n99999999999999999999999999999", 1},
		{"text after an equal number decides", "web1a", "web01b", -1},
		{"non-ASCII letters fold their case", "Été 2", "été 10", -1},
		{"punctuation before digits, as in plain text", "web-2", "web2", -1},
		{"empty names are equal", "", "", 0},
		{"the empty name comes first", "", "a", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := monitoring.NaturalCompare(tt.a, tt.b); got != tt.want {
				t.Errorf("NaturalCompare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := monitoring.NaturalCompare(tt.b, tt.a); got != -tt.want {
				t.Errorf("NaturalCompare(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

func TestSortServersOrdersLabelsNaturally(t *testing.T) {
	t.Parallel()
	srv := func(id, label string) monitoring.Server { return monitoring.Server{ID: id, Label: label} }
	tests := []struct {
		name    string
		servers []monitoring.Server
		want    []string // ids in order
	}{
		{"numbers by value", []monitoring.Server{srv("a", "web10"), srv("b", "web2"), srv("c", "Web1")}, []string{"c", "b", "a"}},
		{"equal labels by id, naturally", []monitoring.Server{srv("en10", "db"), srv("en9", "DB"), srv("en1", "db")}, []string{"en1", "en9", "en10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, start := range [][]monitoring.Server{slices.Clone(tt.servers), reversed(tt.servers)} {
				monitoring.SortServers(start)
				var got []string
				for _, s := range start {
					got = append(got, s.ID)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("order %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestSortAccountsOrdersNamesNaturally(t *testing.T) {
	t.Parallel()
	accts := []monitoring.Account{
		{ID: 1, Username: "cust10", Alias: "Customer 10"},
		{ID: 2, Username: "cust6", Alias: "Customer 6"},
		{ID: 3, Username: "beta"}, // no alias: named by its username
		{ID: 4, Username: "cust6-dup", Alias: "customer 6"},
		{ID: 5, Username: "Alpha 2", Alias: "  "}, // a blank alias names nothing
	}
	monitoring.SortAccounts(accts)
	var got []int64
	for _, a := range accts {
		got = append(got, a.ID)
	}
	if want := []int64{5, 3, 2, 4, 1}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

func reversed[S ~[]E, E any](s S) S {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}
