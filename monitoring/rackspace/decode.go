package rackspace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// The overview page is read token by token (jsontext) straight into one
// scratch OverviewValue at a time, reading only the fields the reduction
// uses and skipping everything else unexamined. The page means exactly
// what encoding/json made of it before: a repeated name is read again
// over what was read (the last wins; a list read over a list reuses its
// elements), names match without case, null leaves a string as it was,
// invalid UTF-8 and lone surrogates read as U+FFFD, a field of the wrong
// type fails the page once the whole body is read (so that a body also
// cut short or not JSON is reported as such), and a tolerant field that
// cannot be read (a disabled flag or timestamp of no known spelling) fails
// it as soon as its value in values has been read whole. The tolerant
// types' UnmarshalJSON methods are the definitions the decoder calls on a
// field's raw bytes, with fast paths for the spellings actually served.

// decodeOptions are the syntax encoding/json accepts: repeated names, and
// strings with invalid UTF-8 or lone surrogates.
var decodeOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// pageDecoder reads overview pages; its buffers are reused from page to
// page.
type pageDecoder struct {
	dec     jsontext.Decoder
	value   OverviewValue     // the value being read
	typeErr error             // the first field of the wrong type on the page
	failed  error             // a tolerant field of the value that could not be read
	key     []byte            // a folded member name
	slots   []string          // the nullable strings of the value being read
	texts   map[string]string // the texts the page shares (see shared)
}

// startValue empties the value (and its nullable strings) for the next.
func (p *pageDecoder) startValue() {
	p.value.reset()
	clear(p.slots)
	p.slots = p.slots[:0]
}

// emptyBody stands in for the body between pages, so that the decoder
// does not keep the last one.
var emptyBody = strings.NewReader("")

// page reads one overview page from body and hands each value to add as
// soon as it is read, so a page is never held whole. It returns the page's
// metadata. A body that is not JSON, is cut short, or has the wrong shape
// is a *BadResponseError. A repeated "values" name replaces the values
// before it (restart is called).
func (p *pageDecoder) page(body io.Reader, add func(*OverviewValue), restart func()) (meta PageMetadata, err error) {
	d := &p.dec
	d.Reset(body, decodeOptions...)
	p.typeErr, p.failed = nil, nil
	defer func() {
		d.Reset(emptyBody)
		p.startValue()
		clear(p.texts)
	}()

	switch kind := d.PeekKind(); kind {
	case '{':
		if _, err := d.ReadToken(); err != nil {
			return meta, badBody(err)
		}
	case '[':
		if _, err := d.ReadToken(); err != nil {
			return meta, badBody(err)
		}
		return meta, &BadResponseError{Reason: "overview is not a JSON object"}
	default:
		if err := p.topLevelScalar(kind); err != nil {
			return meta, err
		}
		if kind == 'n' {
			return meta, &BadResponseError{Reason: "overview has no values"}
		}
		return meta, &BadResponseError{Reason: "overview is not a JSON object"}
	}

	sawValues := false
	for {
		name, end, err := p.name()
		if err != nil {
			return meta, badBody(err)
		}
		if end {
			break
		}
		switch string(name) {
		case "values":
			sawValues = true
			restart()
			if err := p.values(add); err != nil {
				return meta, err
			}
		case "metadata":
			raw, err := d.ReadValue()
			if err != nil {
				return meta, badBody(err)
			}
			// Small, and read once a page: encoding/json itself reads it.
			if err := json.Unmarshal(raw, &meta); err != nil {
				if !isTypeError(err) {
					return meta, badJSON(err, "metadata.")
				}
				p.mistyped(badJSON(err, "metadata."))
			}
		default:
			if err := p.skip(); err != nil {
				return meta, badBody(err)
			}
		}
	}
	if p.typeErr != nil {
		return meta, p.typeErr
	}
	if !sawValues {
		// An object without "values" is not an overview (e.g. an error
		// envelope served with 200, or another endpoint).
		return meta, &BadResponseError{Reason: "overview has no values"}
	}
	return meta, nil
}

// topLevelScalar reads a body that is a string, number or literal (or not
// JSON at all). As encoding/json's token reader did, it reads no further,
// and a number must fit a float64.
func (p *pageDecoder) topLevelScalar(kind jsontext.Kind) error {
	raw, err := p.dec.ReadValue()
	if err != nil {
		return badBody(err)
	}
	if kind == '0' {
		return numberFits(raw, p.dec.InputOffset())
	}
	return nil
}

// numberFits fails a number beyond float64's range the way encoding/json's
// token reader does, as a value of the wrong type (its field path empty).
func numberFits(raw []byte, off int64) error {
	if _, err := strconv.ParseFloat(string(raw), 64); err != nil {
		return &BadResponseError{Reason: "unexpected field type for ",
			Err: &json.UnmarshalTypeError{Value: "number " + string(raw), Type: reflect.TypeFor[float64](), Offset: off}}
	}
	return nil
}

// values reads the value of "values": a list of values, null (no values)
// or anything else (a page of the wrong type).
func (p *pageDecoder) values(add func(*OverviewValue)) error {
	d := &p.dec
	switch d.PeekKind() {
	case '[':
	case 'n':
		_, err := d.ReadToken()
		return badBody(err)
	case '{':
		p.mistyped(&BadResponseError{Reason: "unexpected field type for values"})
		return p.skipObject()
	case 0:
		_, err := d.ReadToken()
		return badBody(err)
	default:
		raw, err := d.ReadValue()
		if err != nil {
			return badBody(err)
		}
		if raw[0] != '"' && raw[0] != 'n' && raw[0] != 't' && raw[0] != 'f' {
			if err := numberFits(raw, d.InputOffset()); err != nil {
				return err
			}
		}
		p.mistyped(&BadResponseError{Reason: "unexpected field type for values"})
		return nil
	}
	if _, err := d.ReadToken(); err != nil {
		return badBody(err)
	}
	v := &p.value
	for {
		switch d.PeekKind() {
		case ']':
			_, err := d.ReadToken()
			return badBody(err)
		case '{':
			p.startValue()
			if err := p.overviewValue(v); err != nil {
				return badBody(err)
			}
			if p.failed != nil {
				// As encoding/json reported a field's own error.
				return &BadResponseError{Reason: describeJSONError(p.failed), Err: p.failed}
			}
		case 'n':
			p.startValue()
			if _, err := d.ReadToken(); err != nil {
				return badBody(err)
			}
		default:
			if err := p.mismatch(&fieldValue); err != nil {
				return badBody(err)
			}
			continue
		}
		if p.typeErr == nil {
			add(v)
		}
	}
}

// skipObject skips the object of a "values" of the wrong type as
// encoding/json's token reader did: token by token, failing on a number
// beyond float64's range.
func (p *pageDecoder) skipObject() error {
	d := &p.dec
	depth := d.StackDepth()
	if _, err := d.ReadToken(); err != nil {
		return badBody(err)
	}
	for d.StackDepth() > depth {
		kind := d.PeekKind()
		if k, n := d.StackIndex(d.StackDepth()); k == '{' && n%2 == 0 && kind != '"' && kind != '}' && kind != 0 {
			return badBody(notName(d, kind))
		}
		if kind == '0' {
			raw, err := d.ReadValue()
			if err != nil {
				return badBody(err)
			}
			if err := numberFits(raw, d.InputOffset()); err != nil {
				return err
			}
			continue
		}
		if _, err := d.ReadToken(); err != nil {
			return badBody(err)
		}
	}
	return nil
}

// skip skips the next value. It reads the value whole, which is quicker
// than token by token and, unlike reading tokens, refuses a misplaced
// token as soon as it sees it.
func (p *pageDecoder) skip() error {
	_, err := p.dec.ReadValue()
	return err
}

// notName refuses a token where an object's member name belongs before
// reading it (reading it could find the body cut short first).
func notName(d *jsontext.Decoder, kind jsontext.Kind) error {
	return &jsontext.SyntacticError{ByteOffset: d.InputOffset(),
		Err: fmt.Errorf("invalid character %q looking for beginning of object name", byte(kind))}
}

// name reads the name of an object's next member, or its end (end is
// true). The name comes folded as encoding/json matches names to fields
// (exactly, or else under Unicode case folding): a field's lower-case name
// matches the names it would. It is valid until the next read.
func (p *pageDecoder) name() (name []byte, end bool, err error) {
	d := &p.dec
	switch kind := d.PeekKind(); kind {
	case '"':
	case '}':
		_, err := d.ReadToken()
		return nil, true, err
	case 0:
		_, err := d.ReadToken()
		return nil, false, err
	default:
		return nil, false, notName(d, kind)
	}
	raw, err := d.ReadValue()
	if err != nil {
		return nil, false, err
	}
	name = raw[1 : len(raw)-1]
	var class byte
	for _, c := range name {
		class |= nameBytes[c]
	}
	switch {
	case class&nameEscaped != 0:
		return p.foldName(unquote(raw)), false, nil
	case class&nameUpper != 0:
		return p.foldName(string(name)), false, nil
	}
	return name, false, nil
}

// nameBytes classes the bytes of a raw name: those that need it unquoted
// before folding, and upper-case ASCII letters.
var nameBytes = func() (t [256]byte) {
	for c := range 256 {
		switch {
		case c >= utf8.RuneSelf || c == '\\':
			t[c] = nameEscaped
		case 'A' <= c && c <= 'Z':
			t[c] = nameUpper
		}
	}
	return t
}()

const (
	nameUpper = 1 << iota
	nameEscaped
)

// foldName folds a name into p.key: each rune to the least of its case
// folding orbit (as encoding/json folds names), then ASCII letters to
// lower case. Folding maps no rune to a lower-case ASCII letter, so a
// lower-case ASCII field name folds to itself and only names that fold
// alike fold to it.
func (p *pageDecoder) foldName(s string) []byte {
	p.key = p.key[:0]
	for _, r := range s {
		for {
			f := unicode.SimpleFold(r)
			if f <= r {
				r = f
				break
			}
			r = f
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		p.key = utf8.AppendRune(p.key, r)
	}
	return p.key
}

// unquote is the text of a raw JSON string as encoding/json reads it.
func unquote(raw []byte) string {
	if s := raw[1 : len(raw)-1]; verbatim(s) {
		return string(s)
	}
	var s string
	_ = json.Unmarshal(raw, &s) // replaces invalid UTF-8 and lone surrogates
	return s
}

// verbatim reports whether the inside of a raw JSON string is its text:
// no escapes, valid UTF-8.
func verbatim(s []byte) bool {
	for _, c := range s {
		if c >= utf8.RuneSelf || c == '\\' {
			return bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s)
		}
	}
	return true
}

// maxShared bounds the texts a page shares.
const maxShared = 4096

// shared is unquote for the texts that repeat across a page (check labels
// and types, alarm labels, states and their statuses, plans): each text
// is allocated once a page, its servers sharing it.
func (p *pageDecoder) shared(raw []byte) string {
	if s := raw[1 : len(raw)-1]; verbatim(s) {
		return p.intern(s)
	}
	return unquote(raw)
}

// intern is string(b), allocated once a page.
func (p *pageDecoder) intern(b []byte) string {
	if s, ok := p.texts[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(p.texts) < maxShared {
		if p.texts == nil {
			p.texts = make(map[string]string)
		}
		p.texts[s] = s
	}
	return s
}

// overviewValue reads one value of the page into v; the next token is its
// opening brace.
func (p *pageDecoder) overviewValue(v *OverviewValue) error {
	d := &p.dec
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	for {
		name, end, err := p.name()
		if err != nil || end {
			return err
		}
		switch string(name) {
		case "entity":
			err = p.entity(&v.Entity)
		case "checks":
			err = readList(p, &v.Checks, &fieldChecks, &fieldCheck, (*pageDecoder).check)
		case "alarms":
			err = readList(p, &v.Alarms, &fieldAlarms, &fieldAlarm, (*pageDecoder).alarm)
		case "latest_alarm_states":
			err = readList(p, &v.LatestAlarmStates, &fieldStates, &fieldState, (*pageDecoder).alarmState)
		default:
			err = p.skip()
		}
		if err != nil {
			return err
		}
	}
}

// readList reads a list into *list as encoding/json reads a slice: element
// by element over what the slice's storage holds (reset empties it per
// value, but a list repeated within a value is read over the one before),
// null or an empty list dropping the storage. A null element leaves its
// element as it is.
func readList[T any](p *pageDecoder, list *[]T, f, elem *wireField, read func(*pageDecoder, *T) error) error {
	d := &p.dec
	switch d.PeekKind() {
	case '[':
	case 'n':
		clear((*list)[:cap(*list)])
		*list = (*list)[:0]
		_, err := d.ReadToken()
		return err
	default:
		return p.mismatch(f)
	}
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	s := (*list)[:0]
	for {
		switch d.PeekKind() {
		case ']':
			if len(s) == 0 {
				clear(s[:cap(s)])
			}
			*list = s
			_, err := d.ReadToken()
			return err
		case '{':
			s = grow(s)
			if err := read(p, &s[len(s)-1]); err != nil {
				return err
			}
		case 'n':
			s = grow(s)
			if _, err := d.ReadToken(); err != nil {
				return err
			}
		default:
			s = grow(s)
			if err := p.mismatch(elem); err != nil {
				return err
			}
		}
	}
}

// grow lengthens s by one element, reusing its storage.
func grow[T any](s []T) []T {
	if len(s) < cap(s) {
		return s[:len(s)+1]
	}
	var zero T
	return append(s, zero)
}

// object reads the members of an object into a struct, calling field for
// each name; the next token is the object's opening brace, or a value of
// another type (f's type error) or null (nothing read).
func (p *pageDecoder) object(f *wireField, field func(name []byte) error) error {
	d := &p.dec
	switch d.PeekKind() {
	case '{':
	case 'n':
		_, err := d.ReadToken()
		return err
	default:
		return p.mismatch(f)
	}
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	for {
		name, end, err := p.name()
		if err != nil || end {
			return err
		}
		if err := field(name); err != nil {
			return err
		}
	}
}

func (p *pageDecoder) entity(e *WireEntity) error {
	return p.object(&fieldEntity, func(name []byte) error {
		switch string(name) {
		case "id":
			return p.str(&e.ID, &fieldEntityID)
		case "label":
			return p.str(&e.Label, &fieldEntityLabel)
		case "uri":
			return p.str(&e.URI, &fieldEntityURI)
		case "agent_id":
			return p.str(&e.AgentID, &fieldEntityAgentID)
		case "active_suppressions":
			return p.suppressions(&e.ActiveSuppressions)
		}
		return p.skip()
	})
}

func (p *pageDecoder) check(c *WireCheck) error {
	return p.object(&fieldCheck, func(name []byte) error {
		switch string(name) {
		case "id":
			return p.str(&c.ID, &fieldCheckID)
		case "label":
			return p.sharedStr(&c.Label, &fieldCheckLabel)
		case "type":
			return p.sharedStr(&c.Type, &fieldCheckType)
		case "disabled":
			return p.flag(&c.Disabled)
		case "active_suppressions":
			return p.suppressions(&c.ActiveSuppressions)
		}
		return p.skip()
	})
}

func (p *pageDecoder) alarm(a *WireAlarm) error {
	return p.object(&fieldAlarm, func(name []byte) error {
		switch string(name) {
		case "id":
			return p.str(&a.ID, &fieldAlarmID)
		case "label":
			return p.sharedStr(&a.Label, &fieldAlarmLabel)
		case "check_id":
			return p.str(&a.CheckID, &fieldAlarmCheckID)
		case "disabled":
			return p.flag(&a.Disabled)
		case "notification_plan_id":
			raw, err := p.dec.ReadValue()
			if err != nil {
				return err
			}
			// A plan without escapes is its raw text (see PlanID).
			if raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
				a.NotificationPlanID = PlanID(p.intern(raw[1 : len(raw)-1]))
				return nil
			}
			return a.NotificationPlanID.UnmarshalJSON(raw)
		case "active_suppressions":
			return p.suppressions(&a.ActiveSuppressions)
		case "criteria":
			// Any value reads (none but a string says anything), and a
			// criteria text already seen costs a map lookup (see Criteria).
			raw, err := p.dec.ReadValue()
			if err != nil {
				return err
			}
			return a.Criteria.UnmarshalJSON(raw)
		}
		return p.skip()
	})
}

func (p *pageDecoder) alarmState(st *WireAlarmState) error {
	return p.object(&fieldState, func(name []byte) error {
		switch string(name) {
		case "timestamp":
			return p.millis(&st.Timestamp)
		case "alarm_id":
			return p.optStr(&st.AlarmID, &fieldStateAlarmID, false)
		case "check_id":
			return p.str(&st.CheckID, &fieldStateCheckID)
		case "status":
			return p.sharedStr(&st.Status, &fieldStateStatus)
		case "state":
			return p.sharedStr(&st.State, &fieldStateState)
		case "previous_state":
			return p.optStr(&st.PreviousState, &fieldStatePrevious, true)
		}
		return p.skip()
	})
}

// str reads a string field: null leaves it as it is.
func (p *pageDecoder) str(dst *string, f *wireField) error {
	d := &p.dec
	switch d.PeekKind() {
	case '"':
		raw, err := d.ReadValue()
		if err == nil {
			*dst = unquote(raw)
		}
		return err
	case 'n':
		_, err := d.ReadToken()
		return err
	}
	return p.mismatch(f)
}

// sharedStr is str for a text that repeats across the page.
func (p *pageDecoder) sharedStr(dst *string, f *wireField) error {
	d := &p.dec
	switch d.PeekKind() {
	case '"':
		raw, err := d.ReadValue()
		if err == nil {
			*dst = p.shared(raw)
		}
		return err
	case 'n':
		_, err := d.ReadToken()
		return err
	}
	return p.mismatch(f)
}

// optStr reads a nullable string field: null clears it. A shared text is
// one that repeats across the page (see shared).
func (p *pageDecoder) optStr(dst **string, f *wireField, shared bool) error {
	d := &p.dec
	switch d.PeekKind() {
	case '"':
		raw, err := d.ReadValue()
		if err != nil {
			return err
		}
		if shared {
			*dst = p.slot(p.shared(raw))
		} else {
			*dst = p.slot(unquote(raw))
		}
		return nil
	case 'n':
		*dst = nil
		_, err := d.ReadToken()
		return err
	}
	return p.mismatch(f)
}

// slot holds s for a nullable field of the value being read, in storage
// reused from value to value.
func (p *pageDecoder) slot(s string) *string {
	if len(p.slots) == cap(p.slots) {
		// A new array: the fields still point into the full one.
		p.slots = make([]string, 0, max(2*cap(p.slots), 32))
	}
	p.slots = append(p.slots, s)
	return &p.slots[len(p.slots)-1]
}

// flag reads a FlexBool.
func (p *pageDecoder) flag(dst *FlexBool) error {
	raw, err := p.dec.ReadValue()
	if err != nil {
		return err
	}
	if err := dst.UnmarshalJSON(raw); err != nil && p.failed == nil {
		p.failed = err
	}
	return nil
}

// millis reads a Millis; a plain number of milliseconds without
// allocating.
func (p *pageDecoder) millis(dst *Millis) error {
	raw, err := p.dec.ReadValue()
	if err != nil {
		return err
	}
	if n, ok := smallDigits(raw); ok {
		dst.Time = TimeFromEpoch(float64(n))
		return nil
	}
	if err := dst.UnmarshalJSON(raw); err != nil && p.failed == nil {
		p.failed = err
	}
	return nil
}

// smallDigits reads raw made of at most 16 decimal digits, a value that
// Millis takes as it is (below its upper bound of 1e16): converting it
// rounds as strconv.ParseFloat does.
func smallDigits(raw []byte) (int64, bool) {
	if len(raw) == 0 || len(raw) > 16 {
		return 0, false
	}
	var n int64
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// suppressions reads a SuppressionIDs as its UnmarshalJSON does, element
// by element: strings, and objects with a string "id" (the last "id" of
// an object wins), trimmed, empty ones dropped; anything else is none.
// An empty list (or none) is nil.
func (p *pageDecoder) suppressions(dst *SuppressionIDs) error {
	d := &p.dec
	*dst = nil
	if d.PeekKind() != '[' {
		return p.skip()
	}
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	for {
		var id string
		switch d.PeekKind() {
		case ']':
			_, err := d.ReadToken()
			return err
		case '"':
			raw, err := d.ReadValue()
			if err != nil {
				return err
			}
			id = p.shared(raw)
		case '{':
			if _, err := d.ReadToken(); err != nil {
				return err
			}
			for {
				name, end, err := p.name()
				if err != nil {
					return err
				}
				if end {
					break
				}
				if string(name) != "id" {
					if err := p.skip(); err != nil {
						return err
					}
					continue
				}
				id = ""
				raw, err := d.ReadValue()
				if err != nil {
					return err
				}
				if raw[0] == '"' {
					id = p.shared(raw)
				}
			}
		default:
			if err := p.skip(); err != nil {
				return err
			}
		}
		if id = strings.TrimSpace(id); id != "" {
			*dst = append(*dst, id)
		}
	}
}

// mismatch skips a value of the wrong type for f, recording the type error.
func (p *pageDecoder) mismatch(f *wireField) error {
	d := &p.dec
	kind := d.PeekKind()
	off := d.InputOffset()
	if err := p.skip(); err != nil {
		return err
	}
	if p.typeErr == nil {
		p.typeErr = f.typeError(kind, off)
	}
	return nil
}

// mistyped records a field of the wrong type; the first one fails the page.
func (p *pageDecoder) mistyped(err error) {
	if p.typeErr == nil {
		p.typeErr = err
	}
}

// badBody wraps a syntax or read error; nil stays nil.
func badBody(err error) error {
	if err == nil {
		return nil
	}
	var bad *BadResponseError
	if errors.As(err, &bad) {
		return err
	}
	reason := "body could not be decoded"
	var syn *jsontext.SyntacticError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		reason = "body truncated"
	case errors.As(err, &syn):
		// Its message may quote the body: no looking for words in it.
		reason = "body is not JSON"
	case strings.Contains(err.Error(), "unexpected EOF"):
		reason = "body truncated" // a read error, worded as encoding/json passed it on
	}
	return &BadResponseError{Reason: reason, Err: err}
}

// wireField names a decoded field for its type error, as encoding/json
// named it: the path below the page, the struct holding the field, the
// field's path within the value and its Go type.
type wireField struct {
	path  string
	strct string
	field string
	typ   reflect.Type
}

func (f *wireField) typeError(kind jsontext.Kind, off int64) error {
	value := map[jsontext.Kind]string{'"': "string", '0': "number", 't': "bool", 'f': "bool", '{': "object", '[': "array"}[kind]
	return &BadResponseError{Reason: "unexpected field type for " + f.path,
		Err: &json.UnmarshalTypeError{Value: value, Type: f.typ, Offset: off, Struct: f.strct, Field: f.field}}
}

var (
	stringType = reflect.TypeFor[string]()

	fieldValue         = wireField{"values", "", "", reflect.TypeFor[OverviewValue]()}
	fieldEntity        = wireField{"values.entity", "OverviewValue", "entity", reflect.TypeFor[WireEntity]()}
	fieldEntityID      = wireField{"values.entity.id", "WireEntity", "entity.id", stringType}
	fieldEntityLabel   = wireField{"values.entity.label", "WireEntity", "entity.label", stringType}
	fieldEntityURI     = wireField{"values.entity.uri", "WireEntity", "entity.uri", stringType}
	fieldEntityAgentID = wireField{"values.entity.agent_id", "WireEntity", "entity.agent_id", stringType}
	fieldChecks        = wireField{"values.checks", "OverviewValue", "checks", reflect.TypeFor[[]WireCheck]()}
	fieldCheck         = wireField{"values.checks", "OverviewValue", "checks", reflect.TypeFor[WireCheck]()}
	fieldCheckID       = wireField{"values.checks.id", "WireCheck", "checks.id", stringType}
	fieldCheckLabel    = wireField{"values.checks.label", "WireCheck", "checks.label", stringType}
	fieldCheckType     = wireField{"values.checks.type", "WireCheck", "checks.type", stringType}
	fieldAlarms        = wireField{"values.alarms", "OverviewValue", "alarms", reflect.TypeFor[[]WireAlarm]()}
	fieldAlarm         = wireField{"values.alarms", "OverviewValue", "alarms", reflect.TypeFor[WireAlarm]()}
	fieldAlarmID       = wireField{"values.alarms.id", "WireAlarm", "alarms.id", stringType}
	fieldAlarmLabel    = wireField{"values.alarms.label", "WireAlarm", "alarms.label", stringType}
	fieldAlarmCheckID  = wireField{"values.alarms.check_id", "WireAlarm", "alarms.check_id", stringType}
	fieldStates        = wireField{"values.latest_alarm_states", "OverviewValue", "latest_alarm_states", reflect.TypeFor[[]WireAlarmState]()}
	fieldState         = wireField{"values.latest_alarm_states", "OverviewValue", "latest_alarm_states", reflect.TypeFor[WireAlarmState]()}
	fieldStateAlarmID  = wireField{"values.latest_alarm_states.alarm_id", "WireAlarmState", "latest_alarm_states.alarm_id", stringType}
	fieldStateCheckID  = wireField{"values.latest_alarm_states.check_id", "WireAlarmState", "latest_alarm_states.check_id", stringType}
	fieldStateStatus   = wireField{"values.latest_alarm_states.status", "WireAlarmState", "latest_alarm_states.status", stringType}
	fieldStateState    = wireField{"values.latest_alarm_states.state", "WireAlarmState", "latest_alarm_states.state", stringType}
	fieldStatePrevious = wireField{"values.latest_alarm_states.previous_state", "WireAlarmState", "latest_alarm_states.previous_state", stringType}
)
