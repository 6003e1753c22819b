import Testing

/// Expects one of the problems `text` to be at `path` (a JSON path, a file position) and to say
/// `words`; when none is, the failure shows them all.
func expectProblem(
    _ text: [String], at path: String, saying words: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(text.contains { $0.contains(path) && $0.contains(words) }, "\(text)", sourceLocation: sourceLocation)
}
