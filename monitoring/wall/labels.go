package wall

import "strings"

// Most of a hostname is often the domain every server of the account
// shares: said once in the account's heading, it leaves each tile the part
// that tells its servers apart.

// minSuffixShare is the share of an account's servers that must end with a
// suffix for it to be said once in the heading instead of on every tile.
const minSuffixShare = 0.5

// sharedSuffix is the longest dot-suffix of two or more labels
// (".example.com", ".prod.example.com") that at least half of labels end
// with, where each of them keeps something before it; "" when none does.
func sharedSuffix(labels []string) string {
	if len(labels) < 2 {
		return ""
	}
	counts := map[string]int{}
	for _, l := range labels {
		l = strings.ToLower(l)
		// every suffix starting at a dot, with two labels at least after it
		for i := 0; i < len(l); i++ {
			if l[i] != '.' || i == 0 {
				continue
			}
			if suf := l[i:]; strings.Count(suf, ".") >= 2 && !strings.HasSuffix(suf, ".") && domainEnd(suf) {
				counts[suf]++
			}
		}
	}
	best := ""
	need := int(float64(len(labels))*minSuffixShare + 0.999)
	for suf, n := range counts {
		if n < need || n < 2 {
			continue
		}
		if len(suf) > len(best) || len(suf) == len(best) && suf < best {
			best = suf
		}
	}
	return best
}

// domainEnd reports whether a suffix ends in a name rather than a number
// (".example.com", not the ".0.1" that addresses share).
func domainEnd(suffix string) bool {
	last := suffix[strings.LastIndexByte(suffix, '.')+1:]
	return strings.ContainsFunc(last, func(r rune) bool { return r < '0' || r > '9' })
}

// shortLabel is label without suffix (compared without case), or label
// when it does not end with it.
func shortLabel(label, suffix string) string {
	if suffix == "" || len(label) <= len(suffix) || !strings.EqualFold(label[len(label)-len(suffix):], suffix) {
		return label
	}
	return label[:len(label)-len(suffix)]
}
