package monitoring

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NaturalCompare orders names as people read them: letter case aside, and
// a run of digits by the number it writes, so "web2" comes before "web10"
// and "Customer 6" before "customer 10". It is the one order of names
// everywhere: accounts, servers, alarms, and the ties of any other order.
//
// Names that differ only in letter case or in a number's leading zeros
// ("Web01", "web1") compare equal: the caller breaks the tie, by id. Only
// the ASCII digits make numbers.
func NaturalCompare(a, b string) int {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			var na, nb string
			na, a = number(a)
			nb, b = number(b)
			// Without leading zeros, a longer number is a larger one.
			if c := cmp.Or(cmp.Compare(len(na), len(nb)), strings.Compare(na, nb)); c != 0 {
				return c
			}
			continue
		}
		ra, sa := utf8.DecodeRuneInString(a)
		rb, sb := utf8.DecodeRuneInString(b)
		if ra != rb {
			if c := cmp.Compare(unicode.ToLower(ra), unicode.ToLower(rb)); c != 0 {
				return c
			}
		}
		a, b = a[sa:], b[sb:]
	}
	// One is the start of the other: the shorter first.
	return cmp.Compare(len(a), len(b))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number splits the leading run of digits off s and returns it without its
// leading zeros, and the rest of s.
func number(s string) (digits, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return strings.TrimLeft(s[:i], "0"), s[i:]
}

// AccountOrder orders accounts by name (see Account.Name and
// NaturalCompare), then by id: the order of every list of accounts.
func AccountOrder(a, b Account) int {
	return cmp.Or(NaturalCompare(a.Name(), b.Name()), cmp.Compare(a.ID, b.ID))
}

// SortAccounts puts accounts in AccountOrder.
func SortAccounts(accts []Account) {
	slices.SortStableFunc(accts, AccountOrder)
}
