package nn

// Grow returns s resliced to length n, reallocating only when its capacity is
// too small. The contents are not cleared.
func Grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n, n+n/4)
}

// GrowZero is Grow followed by clearing the first n elements.
func GrowZero[T any](s []T, n int) []T {
	s = Grow(s, n)
	clear(s)
	return s
}
