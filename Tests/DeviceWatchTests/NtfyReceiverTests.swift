import CurlHTTP
import DeviceWatchCore
import Foundation
import Testing

@testable import DeviceWatch

/// ntfy: a JSON publish to the server's root naming the topic, plain text within 4,096 bytes.
@Suite("ntfy receiver")
struct NtfyReceiverTests {
    let ntfy = NtfyReceiver(name: "r", url: Secret("https://ntfy.test/fleet-alerts"))

    @Test(arguments: ["firing", "resolved", "large", "fleet"])
    func payloadsMatchTheirGoldenFiles(group: String) throws {
        let intent = Fixed.group(group)
        try expectGolden("ntfy-\(group)", body(ntfy, intent))
    }

    @Test func itPublishesToTheServersRootWithTheTopicAndTheTokenInAHeader() throws {
        let withToken = NtfyReceiver(
            name: "r", url: Secret("http://127.0.0.1:8080/prefix/fleet-alerts"), token: Secret("tk_SECRET"))
        let request = try httpRequest(withToken, Fixed.firingGroup)
        #expect(request.url == "http://127.0.0.1:8080/prefix/")
        #expect(request.headers["Authorization"] == "Bearer tk_SECRET")
        let message = try json(request.body ?? Data())
        #expect(message["topic"] as? String == "fleet-alerts")
        #expect(message["priority"] as? Int == 5)
        #expect(message["markdown"] == nil)
        #expect(
            withToken.scrub("failed: http://127.0.0.1:8080/prefix/fleet-alerts tk_SECRET").contains("SECRET") == false)
    }

    @Test func largeGroupsAndHostileNamesStayWithinTheLimitsAndInert() throws {
        let large = try json(body(ntfy, Fixed.largeGroup)[0])
        let message = try #require(large["message"] as? String)
        #expect(message.utf8.count <= 4096)
        #expect(message.contains("and 480 more firing"))
        let hostile = try json(body(ntfy, Fixed.hostile)[0])
        #expect((hostile["message"] as? String)?.contains("https://evil") == false)
        #expect(try json(body(ntfy, Fixed.resolvedGroup)[0])["priority"] as? Int == 2)
    }

    @Test(arguments: [
        ("https://ntfy.sh/fleet-alerts", "https://ntfy.sh", "fleet-alerts"),
        ("http://10.0.0.5:8080/alerts_1", "http://10.0.0.5:8080", "alerts_1"),
    ])
    func topicURLsSplitIntoServerAndTopic(_ url: String, _ server: String, _ topic: String) {
        #expect(NtfyReceiver.split(url)?.server == server)
        #expect(NtfyReceiver.split(url)?.topic == topic)
    }

    @Test(arguments: ["https://ntfy.sh/", "https://ntfy.sh", "https://ntfy.sh/a b", "https://ntfy.sh/é"])
    func urlsWithoutATopicAreRefused(_ url: String) {
        #expect(NtfyReceiver.split(url) == nil)
    }
}
