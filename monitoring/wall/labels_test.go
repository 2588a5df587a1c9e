package wall

import "testing"

func TestSharedSuffix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		labels []string
		want   string
	}{
		{"one domain for all", []string{"api-01.prod.example.com", "db-01.prod.example.com", "web.prod.example.com"}, ".prod.example.com"},
		{"the longest that half share", []string{"api.prod.example.com", "db.prod.example.com", "mq.staging.example.com", "db-01"}, ".prod.example.com"},
		{"the domain when environments split it", []string{"a.prod.example.com", "b.staging.example.com", "c.dev.example.com"}, ".example.com"},
		{"letter case aside", []string{"A.Example.COM", "b.example.com"}, ".example.com"},
		{"fewer than half share nothing", []string{"a.example.com", "b", "c", "d"}, ""},
		{"a bare domain is not taken from itself", []string{"example.com", "www.example.com"}, ""},
		{"one server says it whole", []string{"api.example.com"}, ""},
		{"no dots, no suffix", []string{"web1", "web2"}, ""},
		{"addresses share no domain", []string{"10.0.0.1", "10.1.0.1", "172.16.0.1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sharedSuffix(tt.labels); got != tt.want {
				t.Errorf("sharedSuffix(%q) = %q, want %q", tt.labels, got, tt.want)
			}
		})
	}
	if got := shortLabel("API-01.Example.com", ".example.com"); got != "API-01" {
		t.Errorf("shortLabel = %q", got)
	}
	if got := shortLabel("db-01", ".example.com"); got != "db-01" {
		t.Errorf("shortLabel of a label without the suffix = %q", got)
	}
}
