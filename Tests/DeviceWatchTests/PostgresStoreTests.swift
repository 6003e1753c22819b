import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import DeviceWatch

/// What the PostgreSQL store does beyond the contract: its URL, its password kept out of every
/// message, its schema versions.
@Suite("PostgreSQL state store")
struct PostgresStoreTests {
    @Test func aWrongPasswordSaysWhichDatabaseAndNeverThePassword() async throws {
        let good = try await TestPostgres.shared.newDatabase()
        let wrong = good.replacingOccurrences(of: TestPostgres.Server.password, with: "not-the-pw-9e2f")
        let error = await #expect(throws: StateStoreError.self) { try await PostgresStateStore(url: Secret(wrong)) }
        let text = try #require(error).description
        #expect(error?.kind == .unavailable)
        #expect(text.contains("postgres://127.0.0.1:"))
        #expect(text.contains("authentication") || text.contains("password"))
        #expect(!text.contains("not-the-pw-9e2f") && !text.contains(TestPostgres.Server.user + ":"))
    }

    @Test func noServerIsUnavailableAndSaysWhere() async throws {
        let server = try await TestPostgres.shared.server()
        // A port nothing listens on (the cluster's plus one is as good as any: checked below).
        let url = "postgres://devicewatch:secret-9f1c@127.0.0.1:1/nothing?sslmode=disable"
        let error = await #expect(throws: StateStoreError.self) {
            try await PostgresStateStore(url: Secret(url), timeout: .seconds(5))
        }
        #expect(error?.kind == .unavailable)
        #expect(error?.description.contains("postgres://127.0.0.1:1/nothing") == true)
        #expect(error?.description.contains("secret-9f1c") == false)
        _ = server
    }

    @Test(arguments: [
        ("mysql://u:p@h/db", "postgres://USER:PASSWORD@HOST"),
        ("postgres://u:p@h/db?sslmode=sometimes", "sslmode \"sometimes\""),
        ("postgres://:p@h/db", "names no user"),
    ])
    func aBadURLIsRefusedWithoutQuotingIt(url: String, says: String) async {
        let error = await #expect(throws: StateStoreError.self) { try await PostgresStateStore(url: Secret(url)) }
        #expect(error?.description.contains(says) == true)
        #expect(error?.description.contains(":p@") == false)
    }

    @Test func workersStartingTogetherMigrateOnceAndANewerDatabaseIsRefused() async throws {
        let url = try await TestPostgres.shared.newDatabase()
        // Three workers opening one new database at once: one migrates, the others find it done.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask { (try await PostgresStateStore(url: Secret(url))).close() }
            }
            try await group.waitForAll()
        }
        let store = try await PostgresStateStore(url: Secret(url))
        defer { store.close() }
        var versions: [Int] = []
        for try await version in try await store.client.query("SELECT version FROM devicewatch_schema ORDER BY 1")
            .decode(Int.self)
        {
            versions.append(version)
        }
        #expect(versions == PostgresStateStore.migrations.map(\.version))
        // A later devicewatch added a version: this one refuses the database rather than guess.
        try await store.client.query("INSERT INTO devicewatch_schema (version) VALUES (999)")
        let error = await #expect(throws: StateStoreError.self) { try await PostgresStateStore(url: Secret(url)) }
        #expect(error?.kind == .tooNew)
        #expect(error?.description.contains("999") == true)
    }
}
