/// The distinct tags of one evaluation, each worked out once: the atom bits it sets and which
/// fleet `group_by` tag patterns it matches. A device's tags then become small indices, and
/// neither the rules' tag tests nor a fleet rule's grouping by tag matches a glob or hashes a
/// group key per device: a fleet of 100,000 cameras has a few thousand distinct tags.
struct TagInterner {
    private var indexByTag: [String: Int32] = [:]
    private(set) var tags: [String] = []
    /// The atom bits of tag `i`: `bits[bitStarts[i]..<bitStarts[i + 1]]`.
    private var bitStarts: [Int32] = [0]
    private var bits: [Int32] = []
    /// Per tag: which of the group specs' tag patterns (``AtomTable/groupTagPatterns``) it matches.
    private(set) var patternMatches: [UInt64] = []
    /// Distinct tags kept at most: a fleet whose every device has tags of its own is worked out
    /// device by device past this, rather than growing the table without bound.
    static let limit = 50_000

    /// The latest device's tags and their indices, position by position. Devices of one site or
    /// model come in runs with the same tags, and comparing two short strings costs a fraction of
    /// hashing one (hashing was a third of a quiet 100,000-device cycle).
    private var recent: [(tag: String, index: Int32)] = []

    /// The index of the device's tag at `position` among its tags, as ``intern(_:atoms:)`` has it.
    mutating func intern(_ tag: String, at position: Int, atoms: AtomTable) -> Int32? {
        if position < recent.count, recent[position].tag == tag { return recent[position].index }
        guard let index = intern(tag, atoms: atoms) else { return nil }
        if position < recent.count {
            recent[position] = (tag, index)
        } else if position == recent.count {
            recent.append((tag, index))
        }
        return index
    }

    /// The tag's index (worked out on first sight), or nil past ``limit``.
    mutating func intern(_ tag: String, atoms: AtomTable) -> Int32? {
        if let index = indexByTag[tag] { return index }
        guard tags.count < Self.limit else { return nil }
        let index = Int32(tags.count)
        indexByTag[tag] = index
        tags.append(tag)
        bits += atoms.bits(ofTag: tag).map(Int32.init)
        bitStarts.append(Int32(bits.count))
        var matches: UInt64 = 0
        for (position, glob) in atoms.groupTagPatterns.enumerated() where glob.matches(tag) {
            matches |= 1 << UInt64(position)
        }
        patternMatches.append(matches)
        return index
    }

    func forEachBit(of index: Int32, _ body: (Int) -> Void) {
        for position in Int(bitStarts[Int(index)])..<Int(bitStarts[Int(index) + 1]) { body(Int(bits[position])) }
    }
}
