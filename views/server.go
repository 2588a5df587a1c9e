package views

import (
	"context"
	"io"
	"strings"

	"github.com/a-h/templ"
)

// HostBreaks writes a host name with a <wbr> after each dot and dash, so
// that a long name wraps between its parts ("db-01.<wbr>prod.<wbr>…"),
// not inside one.
func HostBreaks(name string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		var b strings.Builder
		start := 0
		for i := 0; i < len(name); i++ {
			if (name[i] == '.' || name[i] == '-') && i+1 < len(name) {
				b.WriteString(templ.EscapeString(name[start : i+1]))
				b.WriteString("<wbr>")
				start = i + 1
			}
		}
		b.WriteString(templ.EscapeString(name[start:]))
		_, err := io.WriteString(w, b.String())
		return err
	})
}
