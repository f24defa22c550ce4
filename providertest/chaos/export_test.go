package chaos

// SoakFailures runs a soak and returns its invariant failures and leaks,
// for the tests that check the harness catches what it must.
func SoakFailures(factory Factory, cfg SoakConfig, log func(...any)) (failures, leaks []string, err error) {
	st, err := soak(factory, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	return st.failures, st.leaks, nil
}
