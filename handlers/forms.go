package handlers

import (
	"bufio"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
)

const (
	// maxFormBody caps the fields kept from an HTML form post: a field
	// that would take the kept fields past it is left out.
	maxFormBody = 64 << 10
	// maxFormRead caps what is read of a form post at all, the fields left
	// out included. A post past it is answered without reading the rest
	// (and its connection closed), which a browser may show as a failed
	// connection rather than the page, so it is generous: reading up to
	// here is what lets a pasted megabyte get the form back.
	maxFormRead = 8 << 20
)

// formProblem is why a form post could not be read whole: the status to
// answer it with, and what to tell the user beside the form shown again.
type formProblem struct {
	status  int
	message string
}

// readForm reads a form post into r.PostForm. It returns nil when it read
// the whole form; otherwise r.PostForm holds the fields that could be read
// (a field too large to keep, or unreadable, is left out) and the problem
// says why the form must be shown again, with those fields, rather than
// acted on. It never answers the request itself.
func readForm(w http.ResponseWriter, r *http.Request) *formProblem {
	r.PostForm = url.Values{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		// Our forms send nothing else. A body of another type has no
		// fields, as for ParseForm: the form is then refused for what it
		// lacks, as an empty one would be.
		return nil
	}
	br := bufio.NewReader(http.MaxBytesReader(w, r.Body, maxFormRead))
	var tooLarge, unreadable bool
	kept := 0
	for {
		field, skipped, err := nextFormField(br, maxFormBody-kept)
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			field, tooLarge = nil, true // cut off where reading stopped: left out
		case err != nil && !errors.Is(err, io.EOF):
			field, unreadable = nil, true
		case skipped:
			tooLarge = true
		}
		vals, perr := url.ParseQuery(string(field))
		unreadable = unreadable || perr != nil
		for k, vs := range vals {
			r.PostForm[k] = append(r.PostForm[k], vs...)
		}
		kept += len(field)
		if err != nil {
			break
		}
	}
	switch {
	case tooLarge:
		return &formProblem{http.StatusRequestEntityTooLarge, formTooLarge}
	case unreadable:
		return &formProblem{http.StatusBadRequest, formUnreadable}
	}
	return nil
}

// The messages a form is shown again with when its post could not be read
// whole.
const (
	formTooLarge = "This form was too large to read (more than 64 KB), so nothing was done with it. " +
		"What could be read is below, with anything too long left out: shorten it and send the form again."
	formUnreadable = "Part of this form could not be read, so nothing was done with it. Check what is below and send the form again."
)

// nextFormField reads one name=value field of a form body, up to the next
// '&' or the end. A field longer than limit is read past and returned
// empty, with skipped set. err is io.EOF at the end of the body, with the
// last field.
func nextFormField(br *bufio.Reader, limit int) (field []byte, skipped bool, err error) {
	for {
		chunk, err := br.ReadSlice('&')
		if len(chunk) > 0 && chunk[len(chunk)-1] == '&' && err == nil {
			chunk = chunk[:len(chunk)-1]
		}
		if !skipped && len(field)+len(chunk) <= limit {
			field = append(field, chunk...)
		} else if !skipped {
			field, skipped = nil, true
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return field, skipped, err
	}
}
