package explore

// Reductions reports whether the model fingerprints states up to a
// renaming of the honest clients and up to a renaming of their tokens,
// as Report.Symmetry and Report.RenameTokens say of a Run: for a search
// of the model by another explorer to report the same.
func (m *Model) Reductions() (clients, tokens bool) { return m.sym, m.rename }
