#include "trackerdesk/protocol/pcapng.h"

#include <QtEndian>

#include <cstring>

namespace td::proto::pcapng {

namespace {

// ---- address parsing ----

std::optional<QByteArray> parseIpv4(QStringView s) {
    QByteArray out(4, '\0');
    int part = 0;
    int value = -1;
    int digits = 0;
    for (qsizetype i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == QLatin1Char('.')) {
            if (digits == 0 || part > 3)
                return std::nullopt;
            out[part++] = char(value);
            value = -1;
            digits = 0;
            continue;
        }
        const QChar c = s[i];
        if (c < QLatin1Char('0') || c > QLatin1Char('9'))
            return std::nullopt;
        if (digits == 1 && value == 0)
            return std::nullopt;  // leading zeros are ambiguous (octal in some parsers)
        value = (value < 0 ? 0 : value * 10) + (c.unicode() - '0');
        if (++digits > 3 || value > 255)
            return std::nullopt;
    }
    if (part != 4)
        return std::nullopt;
    return out;
}

std::optional<QByteArray> parseIpv6(QStringView s) {
    // Up to 8 groups of 1-4 hex digits, one "::" for a run of zero groups, and an
    // optional dotted IPv4 address in place of the last two groups.
    QList<quint16> head, tail;
    bool sawGap = false;
    QList<quint16> *cur = &head;
    qsizetype i = 0;
    if (s.startsWith(QLatin1String("::"))) {
        sawGap = true;
        cur = &tail;
        i = 2;
        if (s.size() == 2)
            return QByteArray(16, '\0');
    } else if (s.startsWith(QLatin1Char(':'))) {
        return std::nullopt;
    }
    while (i < s.size()) {
        // One group, or a trailing IPv4 address.
        qsizetype j = i;
        while (j < s.size() && s[j] != QLatin1Char(':'))
            ++j;
        const QStringView group = s.mid(i, j - i);
        if (group.contains(QLatin1Char('.'))) {
            if (j != s.size())
                return std::nullopt;  // IPv4 part must be last
            const auto v4 = parseIpv4(group);
            if (!v4)
                return std::nullopt;
            cur->append(quint16((quint8((*v4)[0]) << 8) | quint8((*v4)[1])));
            cur->append(quint16((quint8((*v4)[2]) << 8) | quint8((*v4)[3])));
            i = j;
            break;
        }
        if (group.isEmpty() || group.size() > 4)
            return std::nullopt;
        bool ok = false;
        const uint v = group.toUInt(&ok, 16);
        if (!ok)
            return std::nullopt;
        cur->append(quint16(v));
        if (head.size() + tail.size() > 8)
            return std::nullopt;
        i = j;
        if (i == s.size())
            break;
        // At a ':'. "::" opens the gap (once); a single ':' separates groups.
        if (i + 1 < s.size() && s[i + 1] == QLatin1Char(':')) {
            if (sawGap)
                return std::nullopt;
            sawGap = true;
            cur = &tail;
            i += 2;
            if (i == s.size())
                break;
            if (s[i] == QLatin1Char(':'))
                return std::nullopt;
        } else {
            ++i;
            if (i == s.size())
                return std::nullopt;  // trailing single ':'
        }
    }
    const qsizetype groups = head.size() + tail.size();
    if (groups > 8 || (!sawGap && groups != 8) || (sawGap && groups > 7))
        return std::nullopt;
    QByteArray out(16, '\0');
    for (qsizetype k = 0; k < head.size(); ++k) {
        out[2 * k] = char(head[k] >> 8);
        out[2 * k + 1] = char(head[k] & 0xff);
    }
    for (qsizetype k = 0; k < tail.size(); ++k) {
        const qsizetype at = 8 - tail.size() + k;
        out[2 * at] = char(tail[k] >> 8);
        out[2 * at + 1] = char(tail[k] & 0xff);
    }
    return out;
}

// ---- little-endian block building ----

void putU16(QByteArray &b, quint16 v) {
    char c[2];
    qToLittleEndian(v, c);
    b.append(c, 2);
}
void putU32(QByteArray &b, quint32 v) {
    char c[4];
    qToLittleEndian(v, c);
    b.append(c, 4);
}
void pad4(QByteArray &b) {
    while (b.size() % 4)
        b.append('\0');
}
void putOption(QByteArray &b, quint16 code, const QByteArray &value) {
    putU16(b, code);
    putU16(b, quint16(value.size()));
    b.append(value);
    pad4(b);
}
void putStringOption(QByteArray &b, quint16 code, const QString &value) {
    if (value.isEmpty())
        return;
    QByteArray utf8 = value.toUtf8();
    if (utf8.size() > 0xfff0)
        utf8.truncate(0xfff0);  // an option length is 16 bits
    putOption(b, code, utf8);
}
void endOptions(QByteArray &b) {
    putU16(b, OptEndOfOpt);
    putU16(b, 0);
}

// Big-endian helpers for the network headers.
void putBe16(char *p, quint16 v) { qToBigEndian(v, p); }
void putBe32(char *p, quint32 v) { qToBigEndian(v, p); }

quint32 fnv1a(const QByteArray &b) {
    quint32 h = 2166136261u;
    for (char c : b) {
        h ^= quint8(c);
        h *= 16777619u;
    }
    return h;
}

} // namespace

std::optional<QByteArray> parseIpAddress(const QString &text) {
    QStringView s = QStringView(text).trimmed();
    if (s.startsWith(QLatin1Char('[')) && s.endsWith(QLatin1Char(']')))
        s = s.mid(1, s.size() - 2);
    if (const qsizetype zone = s.indexOf(QLatin1Char('%')); zone >= 0)
        s = s.left(zone);
    if (s.isEmpty() || s.size() > 64)
        return std::nullopt;
    if (!s.contains(QLatin1Char(':')))
        return parseIpv4(s);
    auto v6 = parseIpv6(s);
    if (!v6)
        return std::nullopt;
    static const char mappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, char(0xff), char(0xff)};
    if (std::memcmp(v6->constData(), mappedPrefix, 12) == 0)
        return v6->mid(12);
    return v6;
}

quint16 internetChecksum(const char *data, qsizetype length, quint32 initial) {
    quint64 sum = initial;
    qsizetype i = 0;
    for (; i + 1 < length; i += 2)
        sum += (quint32(quint8(data[i])) << 8) | quint8(data[i + 1]);
    if (i < length)
        sum += quint32(quint8(data[i])) << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return quint16(~sum & 0xffff);
}

QByteArray buildTcpPacket(const TcpPacketSpec &spec) {
    const bool v6 = spec.srcAddress.size() == 16;
    Q_ASSERT(spec.srcAddress.size() == spec.dstAddress.size());
    Q_ASSERT(spec.srcAddress.size() == 4 || spec.srcAddress.size() == 16);
    const int ethLen = 14, ipLen = v6 ? 40 : 20, tcpLen = 20;
    const qsizetype total = ethLen + ipLen + tcpLen + spec.payload.size();
    QByteArray pkt(total, '\0');
    char *p = pkt.data();

    // Ethernet II: destination MAC, source MAC, EtherType.
    std::memcpy(p, spec.fromPeer ? LocalMac : PeerMac, 6);
    std::memcpy(p + 6, spec.fromPeer ? PeerMac : LocalMac, 6);
    putBe16(p + 12, v6 ? 0x86DD : 0x0800);

    // IP header.
    char *ip = p + ethLen;
    const quint16 tcpTotal = quint16(tcpLen + spec.payload.size());
    if (v6) {
        putBe32(ip, 0x60000000u);             // version 6, traffic class 0, flow label 0
        putBe16(ip + 4, tcpTotal);            // payload length
        ip[6] = 6;                            // next header: TCP
        ip[7] = 64;                           // hop limit
        std::memcpy(ip + 8, spec.srcAddress.constData(), 16);
        std::memcpy(ip + 24, spec.dstAddress.constData(), 16);
    } else {
        ip[0] = 0x45;                         // version 4, IHL 5
        ip[1] = 0;                            // DSCP/ECN
        putBe16(ip + 2, quint16(ipLen + tcpTotal));
        putBe16(ip + 4, spec.ipId);
        putBe16(ip + 6, 0x4000);              // don't fragment
        ip[8] = 64;                           // TTL
        ip[9] = 6;                            // protocol: TCP
        std::memcpy(ip + 12, spec.srcAddress.constData(), 4);
        std::memcpy(ip + 16, spec.dstAddress.constData(), 4);
        putBe16(ip + 10, internetChecksum(ip, 20));
    }

    // TCP header.
    char *tcp = ip + ipLen;
    putBe16(tcp, spec.srcPort);
    putBe16(tcp + 2, spec.dstPort);
    putBe32(tcp + 4, spec.seq);
    putBe32(tcp + 8, spec.ack);
    tcp[12] = char(5 << 4);                   // data offset: 5 words, no options
    tcp[13] = char(spec.flags);
    putBe16(tcp + 14, 65535);                 // window
    if (!spec.payload.isEmpty())
        std::memcpy(tcp + tcpLen, spec.payload.constData(), size_t(spec.payload.size()));

    // TCP checksum over the pseudo header + segment.
    quint32 pseudo = 0;
    auto addWords = [&pseudo](const QByteArray &a) {
        for (qsizetype i = 0; i + 1 < a.size(); i += 2)
            pseudo += (quint32(quint8(a[i])) << 8) | quint8(a[i + 1]);
    };
    addWords(spec.srcAddress);
    addWords(spec.dstAddress);
    pseudo += 6;                              // protocol
    pseudo += tcpTotal;                       // TCP length (fits in 16 bits here)
    putBe16(tcp + 16, internetChecksum(tcp, tcpTotal, pseudo));
    return pkt;
}

Writer::Writer(QIODevice *out, WriterOptions options) : m_out(out), m_opt(std::move(options)) {
    m_opt.maxSegmentPayload = qBound(1, m_opt.maxSegmentPayload, 65000);
}

bool Writer::writeBlock(quint32 type, const QByteArray &body) {
    if (!m_error.isEmpty())
        return false;
    Q_ASSERT(body.size() % 4 == 0);
    QByteArray block;
    block.reserve(body.size() + 12);
    const quint32 total = quint32(body.size() + 12);
    putU32(block, type);
    putU32(block, total);
    block.append(body);
    putU32(block, total);
    if (!m_out || !m_out->isWritable()) {
        m_error = QStringLiteral("the capture file is not open for writing");
        return false;
    }
    const qint64 n = m_out->write(block);
    if (n != block.size()) {
        m_error = m_out->errorString().isEmpty() ? QStringLiteral("write error") : m_out->errorString();
        return false;
    }
    m_bytes += n;
    return true;
}

bool Writer::begin() {
    if (m_begun)
        return m_error.isEmpty();
    m_begun = true;
    // Section Header Block.
    QByteArray shb;
    putU32(shb, ByteOrderMagic);
    putU16(shb, 1);                    // major
    putU16(shb, 0);                    // minor
    putU32(shb, 0xffffffffu);          // section length: unknown (-1)
    putU32(shb, 0xffffffffu);
    putStringOption(shb, OptShbUserAppl, m_opt.application);
    endOptions(shb);
    if (!writeBlock(BlockSectionHeader, shb))
        return false;

    // Interface Description Block: Ethernet, no snap limit, microseconds.
    QByteArray idb;
    putU16(idb, LinkTypeEthernet);
    putU16(idb, 0);                    // reserved
    putU32(idb, 0);                    // snaplen: no limit
    putStringOption(idb, OptIfName, m_opt.interfaceName);
    putStringOption(idb, OptIfDescription, m_opt.interfaceDescription);
    putOption(idb, OptIfTsResol, QByteArray(1, char(6)));
    endOptions(idb);
    return writeBlock(BlockInterfaceDescription, idb);
}

void Writer::warn(const QString &w) {
    if (m_warnings.size() < 20)
        m_warnings << w;
    else
        ++m_suppressedWarnings;
}

bool Writer::writePacket(qint64 timeUsecs, bool inbound, const TcpPacketSpec &spec, const QString &comment) {
    const QByteArray pkt = buildTcpPacket(spec);
    const quint64 ts = quint64(qMax<qint64>(0, timeUsecs));
    QByteArray epb;
    epb.reserve(pkt.size() + 64 + comment.size() * 3);
    putU32(epb, 0);                              // interface id
    putU32(epb, quint32(ts >> 32));
    putU32(epb, quint32(ts & 0xffffffffu));
    putU32(epb, quint32(pkt.size()));            // captured length
    putU32(epb, quint32(pkt.size()));            // original length
    epb.append(pkt);
    pad4(epb);
    QByteArray flags;
    putU32(flags, inbound ? 1u : 2u);            // bits 0-1: direction (01 inbound, 10 outbound)
    putOption(epb, OptEpbFlags, flags);
    putStringOption(epb, OptComment, comment);
    endOptions(epb);
    if (!writeBlock(BlockEnhancedPacket, epb))
        return false;
    ++m_packets;
    return true;
}

bool Writer::writeFrame(const CapturedFrame &frame) {
    if (!m_begun && !begin())
        return false;
    if (!m_error.isEmpty())
        return false;
    if (frame.bytes.isEmpty()) {
        warn(QStringLiteral("an empty frame at %1 µs was skipped").arg(frame.timeUsecs));
        return true;
    }
    if (frame.timeUsecs < 0)
        warn(QStringLiteral("a frame with a time before 1970 was written at time 0"));

    // Addresses: both sides must be of one family.
    std::optional<QByteArray> peer = parseIpAddress(frame.peerAddress);
    if (!peer) {
        warn(QStringLiteral("unreadable peer address '%1': written as 0.0.0.0").arg(frame.peerAddress.left(64)));
        peer = QByteArray(4, '\0');
    }
    const QString localText = frame.localAddress.isEmpty() ? m_opt.localAddress : frame.localAddress;
    std::optional<QByteArray> local = localText.isEmpty() ? std::nullopt : parseIpAddress(localText);
    if (!localText.isEmpty() && !local)
        warn(QStringLiteral("unreadable local address '%1': written as unspecified").arg(localText.left(64)));
    if (!local || local->size() != peer->size())
        local = QByteArray(peer->size(), '\0');   // unknown / other family: 0.0.0.0 or ::
    const quint16 localPort = frame.localPort ? frame.localPort : m_opt.localPort;

    QByteArray key = *peer;
    key.append(char(frame.peerPort >> 8)).append(char(frame.peerPort & 0xff));
    key.append(*local);
    key.append(char(localPort >> 8)).append(char(localPort & 0xff));

    auto it = m_connections.find(key);
    if (it == m_connections.end()) {
        Conn c;
        const quint32 h = fnv1a(key);
        const quint32 peerIsn = h & 0x0fffffffu;
        const quint32 localIsn = (h * 2654435761u) & 0x0fffffffu;
        c.peerNext = peerIsn + 1;
        c.localNext = localIsn + 1;
        c.peerIpId = quint16(h >> 16);
        c.localIpId = quint16(h);
        it = m_connections.insert(key, c);
        if (m_opt.handshake) {
            const TcpPacketSpec syn{*peer, *local, frame.peerPort, localPort, peerIsn, 0, TcpSyn,
                                    it->peerIpId++, true, {}};
            const TcpPacketSpec synAck{*local, *peer, localPort, frame.peerPort, localIsn, peerIsn + 1,
                                       quint8(TcpSyn | TcpAck), it->localIpId++, false, {}};
            const TcpPacketSpec ack{*peer, *local, frame.peerPort, localPort, peerIsn + 1, localIsn + 1, TcpAck,
                                    it->peerIpId++, true, {}};
            if (!writePacket(frame.timeUsecs, true, syn, {}) || !writePacket(frame.timeUsecs, false, synAck, {})
                || !writePacket(frame.timeUsecs, true, ack, {}))
                return false;
        }
    }
    Conn &c = it.value();
    const bool inbound = frame.direction == Direction::FromDevice;
    for (qsizetype off = 0; off < frame.bytes.size(); off += m_opt.maxSegmentPayload) {
        TcpPacketSpec s;
        s.payload = frame.bytes.mid(off, m_opt.maxSegmentPayload);
        s.flags = quint8(TcpAck | TcpPsh);
        s.fromPeer = inbound;
        if (inbound) {
            s.srcAddress = *peer; s.dstAddress = *local;
            s.srcPort = frame.peerPort; s.dstPort = localPort;
            s.seq = c.peerNext; s.ack = c.localNext;
            s.ipId = c.peerIpId++;
            c.peerNext += quint32(s.payload.size());
        } else {
            s.srcAddress = *local; s.dstAddress = *peer;
            s.srcPort = localPort; s.dstPort = frame.peerPort;
            s.seq = c.localNext; s.ack = c.peerNext;
            s.ipId = c.localIpId++;
            c.localNext += quint32(s.payload.size());
        }
        if (!writePacket(frame.timeUsecs, inbound, s, off == 0 ? frame.comment : QString()))
            return false;
    }
    ++m_frames;
    return true;
}

bool Writer::finish() {
    if (!m_begun && !begin())
        return false;
    if (m_suppressedWarnings > 0) {
        m_warnings << QStringLiteral("... and %1 more warnings").arg(m_suppressedWarnings);
        m_suppressedWarnings = 0;
    }
    return m_error.isEmpty();
}

} // namespace td::proto::pcapng
