// pcapng writer for raw tracker traffic (Wireshark / tshark open the result).
//
// The store keeps the TCP payload of every frame with its time, direction and peer. To
// make a capture Wireshark can follow, each frame becomes one packet with synthetic
// Ethernet + IPv4/IPv6 + TCP headers that carry the real peer address and port and the
// server's local address and port:
//   - one TCP connection per (peer address, peer port, local address, local port);
//   - a synthetic SYN / SYN-ACK / ACK at a connection's first frame (the device connects
//     to the server), so "Follow TCP stream" and the sequence analysis work;
//   - sequence numbers advance per direction and per connection; each packet ACKs what the
//     other side sent so far;
//   - correct IPv4 header checksum and TCP checksum (pseudo header);
//   - payloads larger than one IP packet can hold are split into several segments.
// File layout (pcapng, little endian): SHB, one IDB (LINKTYPE_ETHERNET, microsecond
// timestamps), one EPB per packet with epb_flags (inbound/outbound) and an optional
// comment. Writes go straight to a QIODevice in small pieces: nothing is accumulated.
// Pure: QtCore only.
#pragma once

#include "trackerdesk/protocol/protocol.h"

#include <QByteArray>
#include <QHash>
#include <QIODevice>
#include <QString>
#include <QStringList>
#include <optional>

namespace td::proto::pcapng {

// pcapng block types and constants (draft-ietf-opsawg-pcapng).
enum : quint32 {
    BlockSectionHeader = 0x0A0D0D0A,
    BlockInterfaceDescription = 0x00000001,
    BlockEnhancedPacket = 0x00000006,
    ByteOrderMagic = 0x1A2B3C4D,
};
enum : quint16 {
    LinkTypeEthernet = 1,
    OptEndOfOpt = 0,
    OptComment = 1,
    OptShbUserAppl = 4,
    OptIfName = 2,
    OptIfDescription = 3,
    OptIfTsResol = 9,
    OptEpbFlags = 2,
};

// One frame as the store keeps it.
struct CapturedFrame {
    qint64 timeUsecs = 0;              // UTC, microseconds since the epoch
    Direction direction = Direction::FromDevice;  // FromDevice: peer -> local
    QString peerAddress;               // "203.0.113.7", "2001:db8::7", "::ffff:203.0.113.7"
    quint16 peerPort = 0;
    QString localAddress;              // empty: WriterOptions::localAddress
    quint16 localPort = 0;             // 0: WriterOptions::localPort
    QByteArray bytes;                  // TCP payload, exactly as on the wire
    QString comment;                   // shown by Wireshark as the packet comment (optional)
};

struct WriterOptions {
    QString application;               // shb_userappl, e.g. "TrackerDesk 0.1.0"
    QString interfaceName = QStringLiteral("trackerdesk");
    QString interfaceDescription = QStringLiteral("TrackerDesk tracker server (synthetic Ethernet/IP/TCP headers)");
    QString localAddress;              // the server side when a frame has none; empty: 0.0.0.0 / ::
    quint16 localPort = 5023;
    bool handshake = true;             // synthetic SYN / SYN-ACK / ACK per connection
    int maxSegmentPayload = 65000;     // payload bytes per packet (1..65000)
};

// An IP address in network byte order: 4 bytes (IPv4) or 16 bytes (IPv6). IPv4-mapped
// IPv6 addresses ("::ffff:1.2.3.4", what a dual-stack server reports) become IPv4.
// A zone ("%eth0") is ignored. std::nullopt for anything else.
std::optional<QByteArray> parseIpAddress(const QString &text);

// RFC 1071 Internet checksum of `data` (with `initial` partial sum), as stored in headers.
quint16 internetChecksum(const char *data, qsizetype length, quint32 initial = 0);

// Ethernet + IP + TCP headers and the payload of one synthetic packet.
struct TcpPacketSpec {
    QByteArray srcAddress, dstAddress; // both 4 or both 16 bytes
    quint16 srcPort = 0, dstPort = 0;
    quint32 seq = 0, ack = 0;
    quint8 flags = 0;                  // TcpFlag bits
    quint16 ipId = 0;                  // IPv4 identification
    bool fromPeer = true;              // picks the synthetic MAC addresses (PeerMac -> LocalMac)
    QByteArray payload;
};
enum TcpFlag : quint8 { TcpFin = 0x01, TcpSyn = 0x02, TcpRst = 0x04, TcpPsh = 0x08, TcpAck = 0x10 };
QByteArray buildTcpPacket(const TcpPacketSpec &spec);

// Synthetic MAC addresses: the device side and the server side.
inline constexpr char PeerMac[6] = {0x02, 0x54, 0x44, 0x00, 0x00, 0x01};
inline constexpr char LocalMac[6] = {0x02, 0x54, 0x44, 0x00, 0x00, 0x02};

class Writer {
public:
    // `out` must be open for writing; it is not owned.
    explicit Writer(QIODevice *out, WriterOptions options = {});

    // Writes the section header and the interface description. False on a write error.
    bool begin();
    // Writes the packets of one frame (and the handshake of a new connection).
    // False on a write error (errorString()); a frame with a bad peer address is still
    // written, with 0.0.0.0, and noted in warnings().
    bool writeFrame(const CapturedFrame &frame);
    bool finish();   // flushes nothing extra (every block is complete); checks the device

    QString errorString() const { return m_error; }
    QStringList warnings() const { return m_warnings; }
    qint64 packetsWritten() const { return m_packets; }
    qint64 framesWritten() const { return m_frames; }
    qint64 connections() const { return m_connections.size(); }
    qint64 bytesWritten() const { return m_bytes; }

private:
    struct Conn {
        quint32 peerNext = 0;   // next sequence number peer -> local
        quint32 localNext = 0;  // next sequence number local -> peer
        quint16 peerIpId = 0, localIpId = 0;
    };
    bool writeBlock(quint32 type, const QByteArray &body);
    bool writePacket(qint64 timeUsecs, bool inbound, const TcpPacketSpec &spec, const QString &comment);
    void warn(const QString &w);

    QIODevice *m_out;
    WriterOptions m_opt;
    QHash<QByteArray, Conn> m_connections;   // key: peer addr|port|local addr|port
    QString m_error;
    QStringList m_warnings;
    int m_suppressedWarnings = 0;
    qint64 m_packets = 0, m_frames = 0, m_bytes = 0;
    bool m_begun = false;
};

} // namespace td::proto::pcapng
