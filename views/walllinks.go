package views

// WallLinkForm is the new-wall-link form with what was typed and messages
// per field.
type WallLinkForm struct {
	Name     string
	FilterID int64  // a saved filter chosen, 0 for none
	Query    string // a filter typed instead
	WallMode bool
	Errors   map[string]string
	Message  string // a form-wide error
}

// Err returns the message for a field.
func (f WallLinkForm) Err(field string) string { return f.Errors[field] }
