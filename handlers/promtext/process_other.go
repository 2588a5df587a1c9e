//go:build !linux

package promtext

// CollectProcess does nothing here: the process's series are read from
// Linux's /proc.
func (r *Registry) CollectProcess() {}
