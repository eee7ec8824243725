// The pcapng writer: address parsing, checksums, the block layout read back byte by byte,
// TCP sequence numbers, and what tshark (Wireshark's command line) makes of the files:
// frame count, payload bytes, "follow TCP stream", no checksum or sequence complaints.
// Payloads are the real device frames of tests/data (GT06 and JT/T 808 vectors).
#include "trackerdesk/protocol/pcapng.h"

#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtEndian>
#include <QtTest>

using namespace td::proto;
using namespace td::proto::pcapng;

namespace {

struct Block {
    quint32 type = 0;
    QByteArray body;
};

// Reads the blocks of a little-endian pcapng file, checking both length fields.
QList<Block> readBlocks(const QByteArray &file, QString *error) {
    QList<Block> out;
    qsizetype at = 0;
    while (at < file.size()) {
        if (file.size() - at < 12) {
            *error = QStringLiteral("truncated block at %1").arg(at);
            return {};
        }
        const quint32 type = qFromLittleEndian<quint32>(file.constData() + at);
        const quint32 len = qFromLittleEndian<quint32>(file.constData() + at + 4);
        if (len < 12 || len % 4 || at + qsizetype(len) > file.size()) {
            *error = QStringLiteral("bad block length %1 at %2").arg(len).arg(at);
            return {};
        }
        const quint32 trailer = qFromLittleEndian<quint32>(file.constData() + at + len - 4);
        if (trailer != len) {
            *error = QStringLiteral("trailing length %1 != %2 at %3").arg(trailer).arg(len).arg(at);
            return {};
        }
        out.append({type, file.mid(at + 8, len - 12)});
        at += len;
    }
    return out;
}

// Options (code, value) of an options area.
QList<QPair<quint16, QByteArray>> readOptions(const QByteArray &area) {
    QList<QPair<quint16, QByteArray>> out;
    qsizetype at = 0;
    while (at + 4 <= area.size()) {
        const quint16 code = qFromLittleEndian<quint16>(area.constData() + at);
        const quint16 len = qFromLittleEndian<quint16>(area.constData() + at + 2);
        if (code == OptEndOfOpt)
            break;
        out.append({code, area.mid(at + 4, len)});
        at += 4 + ((len + 3) & ~3);
    }
    return out;
}

struct Epb {
    quint64 ts = 0;
    QByteArray data;
    quint32 flags = 0;
    QString comment;
};

Epb parseEpb(const QByteArray &body) {
    Epb e;
    e.ts = (quint64(qFromLittleEndian<quint32>(body.constData() + 4)) << 32) | qFromLittleEndian<quint32>(body.constData() + 8);
    const quint32 caplen = qFromLittleEndian<quint32>(body.constData() + 12);
    e.data = body.mid(20, caplen);
    for (const auto &o : readOptions(body.mid(20 + ((caplen + 3) & ~3)))) {
        if (o.first == OptEpbFlags)
            e.flags = qFromLittleEndian<quint32>(o.second.constData());
        if (o.first == OptComment)
            e.comment = QString::fromUtf8(o.second);
    }
    return e;
}

struct Packet {
    bool v6 = false;
    QByteArray src, dst, srcMac, dstMac;
    quint16 srcPort = 0, dstPort = 0;
    quint32 seq = 0, ack = 0;
    quint8 flags = 0;
    QByteArray payload;
    bool ipChecksumOk = false, tcpChecksumOk = false;
};

Packet parsePacket(const QByteArray &d) {
    Packet p;
    p.dstMac = d.mid(0, 6);
    p.srcMac = d.mid(6, 6);
    const quint16 etherType = qFromBigEndian<quint16>(d.constData() + 12);
    p.v6 = etherType == 0x86DD;
    const char *ip = d.constData() + 14;
    int ipLen = 0;
    quint16 tcpLen = 0;
    if (p.v6) {
        ipLen = 40;
        tcpLen = qFromBigEndian<quint16>(ip + 4);
        p.src = QByteArray(ip + 8, 16);
        p.dst = QByteArray(ip + 24, 16);
        p.ipChecksumOk = true;  // IPv6 has no header checksum
    } else {
        ipLen = (ip[0] & 0x0f) * 4;
        tcpLen = quint16(qFromBigEndian<quint16>(ip + 2) - ipLen);
        p.src = QByteArray(ip + 12, 4);
        p.dst = QByteArray(ip + 16, 4);
        p.ipChecksumOk = internetChecksum(ip, ipLen) == 0;
    }
    const char *tcp = ip + ipLen;
    p.srcPort = qFromBigEndian<quint16>(tcp);
    p.dstPort = qFromBigEndian<quint16>(tcp + 2);
    p.seq = qFromBigEndian<quint32>(tcp + 4);
    p.ack = qFromBigEndian<quint32>(tcp + 8);
    p.flags = quint8(tcp[13]);
    const int off = (quint8(tcp[12]) >> 4) * 4;
    p.payload = QByteArray(tcp + off, tcpLen - off);
    quint32 pseudo = 0;
    for (const QByteArray *a : {&p.src, &p.dst})
        for (qsizetype i = 0; i < a->size(); i += 2)
            pseudo += (quint32(quint8(a->at(i))) << 8) | quint8(a->at(i + 1));
    pseudo += 6 + tcpLen;
    p.tcpChecksumOk = internetChecksum(tcp, tcpLen, pseudo) == 0;
    return p;
}

// Real frames from a vectors file (column "hex").
QList<QByteArray> vectorFrames(const QString &file) {
    QList<QByteArray> out;
    QFile f(QStringLiteral(TD_TEST_DATA "/") + file);
    if (!f.open(QIODevice::ReadOnly))
        return out;
    const QList<QByteArray> header = f.readLine().trimmed().split('\t');
    const int col = int(header.indexOf("hex"));
    while (!f.atEnd()) {
        const QList<QByteArray> cells = f.readLine().split('\t');
        if (col >= 0 && col < cells.size()) {
            const QByteArray bytes = QByteArray::fromHex(cells[col].trimmed());
            if (!bytes.isEmpty())
                out << bytes;
        }
    }
    return out;
}

struct Tool {
    int code = -1;
    QByteArray out, err;
};

Tool runTool(const QString &program, const QStringList &args) {
    QProcess p;
    p.start(program, args);
    Tool t;
    if (!p.waitForStarted(10000)) {
        t.err = p.errorString().toUtf8();
        return t;
    }
    if (!p.waitForFinished(120000)) {
        p.kill();
        p.waitForFinished();
        t.err = "timeout";
        return t;
    }
    t.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    t.out = p.readAllStandardOutput();
    t.err = p.readAllStandardError();
    return t;
}

QByteArray writeCapture(const QList<CapturedFrame> &frames, WriterOptions options = {}, Writer **keep = nullptr) {
    QBuffer buf;
    buf.open(QIODevice::WriteOnly);
    static std::unique_ptr<Writer> last;
    last = std::make_unique<Writer>(&buf, options);
    if (!last->begin())
        return {};
    for (const CapturedFrame &f : frames)
        if (!last->writeFrame(f))
            return {};
    if (!last->finish())
        return {};
    if (keep)
        *keep = last.get();
    return buf.data();
}

} // namespace

class TestPcapng : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void parseAddress_data();
    void parseAddress();
    void checksum();
    void packetHeaders_data();
    void packetHeaders();
    void fileLayout();
    void sequenceNumbers();
    void largePayloadIsSplit();
    void badAddressesAreWarned();
    void writeErrorIsReported();
    void tshark_data();
    void tshark();

private:
    QString m_tshark;
    QTemporaryDir m_dir;
};

void TestPcapng::initTestCase() {
    QVERIFY(m_dir.isValid());
    m_tshark = QStandardPaths::findExecutable(QStringLiteral("tshark"));
}

void TestPcapng::parseAddress_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("hex");   // empty: rejected
    QTest::newRow("v4") << "203.0.113.7" << "cb007107";
    QTest::newRow("v4 zeros") << "0.0.0.0" << "00000000";
    QTest::newRow("v4 max") << "255.255.255.255" << "ffffffff";
    QTest::newRow("v4 spaces") << "  10.1.2.3 " << "0a010203";
    QTest::newRow("v4 too big") << "256.1.1.1" << "";
    QTest::newRow("v4 short") << "1.2.3" << "";
    QTest::newRow("v4 long") << "1.2.3.4.5" << "";
    QTest::newRow("v4 empty part") << "1..3.4" << "";
    QTest::newRow("v4 leading zero") << "01.2.3.4" << "";
    QTest::newRow("v4 letters") << "1.2.3.a" << "";
    QTest::newRow("v6 full") << "2001:0db8:0000:0000:0000:0000:0000:0007" << "20010db8000000000000000000000007";
    QTest::newRow("v6 gap") << "2001:db8::7" << "20010db8000000000000000000000007";
    QTest::newRow("v6 loopback") << "::1" << "00000000000000000000000000000001";
    QTest::newRow("v6 any") << "::" << "00000000000000000000000000000000";
    QTest::newRow("v6 trailing gap") << "fe80::" << "fe800000000000000000000000000000";
    QTest::newRow("v6 zone") << "fe80::1%eth0" << "fe800000000000000000000000000001";
    QTest::newRow("v6 brackets") << "[2001:db8::1]" << "20010db8000000000000000000000001";
    QTest::newRow("v6 embedded v4") << "64:ff9b::192.0.2.33" << "0064ff9b0000000000000000c0000221";
    QTest::newRow("v4 mapped") << "::ffff:203.0.113.7" << "cb007107";
    QTest::newRow("v4 mapped hex") << "::ffff:cb00:7107" << "cb007107";
    QTest::newRow("v6 two gaps") << "1::2::3" << "";
    QTest::newRow("v6 too many") << "1:2:3:4:5:6:7:8:9" << "";
    QTest::newRow("v6 gap with 8 groups") << "1:2:3:4::5:6:7:8" << "";
    QTest::newRow("v6 too few") << "1:2:3:4:5:6:7" << "";
    QTest::newRow("v6 long group") << "12345::1" << "";
    QTest::newRow("v6 bad hex") << "2001:db8::g" << "";
    QTest::newRow("v6 leading colon") << ":1:2:3:4:5:6:7" << "";
    QTest::newRow("v6 trailing colon") << "1:2:3:4:5:6:7:" << "";
    QTest::newRow("v6 triple colon") << "1:::2" << "";
    QTest::newRow("v6 v4 not last") << "::1.2.3.4:5" << "";
    QTest::newRow("empty") << "" << "";
    QTest::newRow("name") << "tracker.example" << "";
}

void TestPcapng::parseAddress() {
    QFETCH(QString, text);
    QFETCH(QString, hex);
    const auto a = parseIpAddress(text);
    if (hex.isEmpty()) {
        QVERIFY2(!a, qPrintable(text));
    } else {
        QVERIFY2(a, qPrintable(text));
        QCOMPARE(a->toHex(), hex.toLatin1());
    }
}

void TestPcapng::checksum() {
    // RFC 1071, section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2 (one's complement: 220d).
    const QByteArray data = QByteArray::fromHex("0001f203f4f5f6f7");
    QCOMPARE(internetChecksum(data.constData(), data.size()), quint16(0x220d));
    // A real IPv4 header (checksum b861) checks to zero and recomputes to its value.
    QByteArray ip = QByteArray::fromHex("450000730000400040110000c0a80001c0a800c7");
    QCOMPARE(internetChecksum(ip.constData(), ip.size()), quint16(0xb861));
    ip[10] = char(0xb8);
    ip[11] = char(0x61);
    QCOMPARE(internetChecksum(ip.constData(), ip.size()), quint16(0));
    // Odd length: the last byte is padded with zero; the carry folds back in:
    // 0102 + ff00 = 1 0002 -> 0003 -> one's complement fffc.
    const QByteArray odd = QByteArray::fromHex("0102ff");
    QCOMPARE(internetChecksum(odd.constData(), odd.size()), quint16(0xfffc));
}

void TestPcapng::packetHeaders_data() {
    QTest::addColumn<QString>("src");
    QTest::addColumn<QString>("dst");
    QTest::addColumn<QByteArray>("payload");
    const QList<QByteArray> gt06 = vectorFrames(QStringLiteral("gt06_vectors.tsv"));
    QVERIFY(gt06.size() > 10);
    QTest::newRow("v4 login") << "203.0.113.7" << "198.51.100.1" << gt06.at(1);
    QTest::newRow("v4 odd length") << "10.0.0.1" << "10.0.0.2" << QByteArray("abc");
    QTest::newRow("v4 empty") << "10.0.0.1" << "10.0.0.2" << QByteArray();
    QTest::newRow("v6") << "2001:db8::7" << "2001:db8::1" << gt06.at(3);
}

void TestPcapng::packetHeaders() {
    QFETCH(QString, src);
    QFETCH(QString, dst);
    QFETCH(QByteArray, payload);
    TcpPacketSpec s;
    s.srcAddress = *parseIpAddress(src);
    s.dstAddress = *parseIpAddress(dst);
    s.srcPort = 40123;
    s.dstPort = 5023;
    s.seq = 0xfffffff0u;
    s.ack = 12345;
    s.flags = TcpAck | TcpPsh;
    s.ipId = 77;
    s.payload = payload;
    const QByteArray pkt = buildTcpPacket(s);
    const Packet p = parsePacket(pkt);
    QCOMPARE(p.v6, s.srcAddress.size() == 16);
    QCOMPARE(pkt.size(), 14 + (p.v6 ? 40 : 20) + 20 + payload.size());
    QCOMPARE(p.src, s.srcAddress);
    QCOMPARE(p.dst, s.dstAddress);
    QCOMPARE(p.srcPort, quint16(40123));
    QCOMPARE(p.dstPort, quint16(5023));
    QCOMPARE(p.seq, 0xfffffff0u);
    QCOMPARE(p.ack, 12345u);
    QCOMPARE(p.flags, quint8(TcpAck | TcpPsh));
    QCOMPARE(p.payload, payload);
    QVERIFY(p.ipChecksumOk);
    QVERIFY(p.tcpChecksumOk);
    QCOMPARE(p.srcMac, QByteArray(PeerMac, 6));
    QCOMPARE(p.dstMac, QByteArray(LocalMac, 6));
    // A flipped payload bit breaks the TCP checksum (the check above is not vacuous).
    if (!payload.isEmpty()) {
        QByteArray broken = pkt;
        broken[broken.size() - 1] = char(broken.at(broken.size() - 1) ^ 0x01);
        QVERIFY(!parsePacket(broken).tcpChecksumOk);
    }
}

void TestPcapng::fileLayout() {
    const QList<QByteArray> gt06 = vectorFrames(QStringLiteral("gt06_vectors.tsv"));
    QList<CapturedFrame> frames;
    const qint64 t0 = 1714567890123456LL;
    frames.append({t0, Direction::FromDevice, QStringLiteral("203.0.113.7"), 40000, QString(), 0, gt06.at(1),
                   QStringLiteral("login é")});
    frames.append({t0 + 1500, Direction::ToDevice, QStringLiteral("203.0.113.7"), 40000, QString(), 0,
                   QByteArray::fromHex("787805010001d9dc0d0a"), QString()});
    WriterOptions o;
    o.application = QStringLiteral("TrackerDesk test");
    o.localAddress = QStringLiteral("198.51.100.1");
    o.localPort = 5023;
    Writer *w = nullptr;
    const QByteArray file = writeCapture(frames, o, &w);
    QVERIFY(!file.isEmpty());
    QCOMPARE(w->packetsWritten(), 5);  // SYN, SYN-ACK, ACK, login, reply
    QCOMPARE(w->framesWritten(), 2);
    QCOMPARE(w->connections(), 1);
    QCOMPARE(w->bytesWritten(), file.size());
    QString error;
    const QList<Block> blocks = readBlocks(file, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(blocks.size(), 2 + 5);

    QCOMPARE(blocks[0].type, quint32(BlockSectionHeader));
    QCOMPARE(qFromLittleEndian<quint32>(blocks[0].body.constData()), quint32(ByteOrderMagic));
    QCOMPARE(qFromLittleEndian<quint16>(blocks[0].body.constData() + 4), quint16(1));
    QCOMPARE(qFromLittleEndian<quint16>(blocks[0].body.constData() + 6), quint16(0));
    const auto shbOpts = readOptions(blocks[0].body.mid(16));
    QCOMPARE(shbOpts.size(), 1);
    QCOMPARE(shbOpts[0].first, quint16(OptShbUserAppl));
    QCOMPARE(shbOpts[0].second, QByteArray("TrackerDesk test"));

    QCOMPARE(blocks[1].type, quint32(BlockInterfaceDescription));
    QCOMPARE(qFromLittleEndian<quint16>(blocks[1].body.constData()), quint16(LinkTypeEthernet));
    bool tsresol = false;
    for (const auto &opt : readOptions(blocks[1].body.mid(8)))
        if (opt.first == OptIfTsResol)
            tsresol = opt.second == QByteArray(1, char(6));
    QVERIFY(tsresol);

    for (int i = 2; i < blocks.size(); ++i)
        QCOMPARE(blocks[i].type, quint32(BlockEnhancedPacket));
    const Epb syn = parseEpb(blocks[2].body), synAck = parseEpb(blocks[3].body), ack = parseEpb(blocks[4].body);
    const Epb login = parseEpb(blocks[5].body), reply = parseEpb(blocks[6].body);
    QCOMPARE(login.ts, quint64(t0));
    QCOMPARE(reply.ts, quint64(t0 + 1500));
    QCOMPARE(syn.ts, quint64(t0));
    QCOMPARE(login.flags, 1u);  // inbound
    QCOMPARE(reply.flags, 2u);  // outbound
    QCOMPARE(synAck.flags, 2u);
    QCOMPARE(login.comment, QStringLiteral("login é"));
    QVERIFY(reply.comment.isEmpty());

    const Packet pSyn = parsePacket(syn.data), pSynAck = parsePacket(synAck.data), pAck = parsePacket(ack.data);
    const Packet pLogin = parsePacket(login.data), pReply = parsePacket(reply.data);
    QCOMPARE(pSyn.flags, quint8(TcpSyn));
    QCOMPARE(pSynAck.flags, quint8(TcpSyn | TcpAck));
    QCOMPARE(pAck.flags, quint8(TcpAck));
    QCOMPARE(pSynAck.ack, pSyn.seq + 1);
    QCOMPARE(pAck.seq, pSyn.seq + 1);
    QCOMPARE(pAck.ack, pSynAck.seq + 1);
    QCOMPARE(pLogin.seq, pSyn.seq + 1);
    QCOMPARE(pLogin.ack, pSynAck.seq + 1);
    QCOMPARE(pLogin.payload, gt06.at(1));
    QCOMPARE(pLogin.src, *parseIpAddress(QStringLiteral("203.0.113.7")));
    QCOMPARE(pLogin.dst, *parseIpAddress(QStringLiteral("198.51.100.1")));
    QCOMPARE(pLogin.srcPort, quint16(40000));
    QCOMPARE(pLogin.dstPort, quint16(5023));
    QCOMPARE(pReply.src, pLogin.dst);
    QCOMPARE(pReply.srcPort, quint16(5023));
    QCOMPARE(pReply.seq, pSynAck.seq + 1);
    QCOMPARE(pReply.ack, pLogin.seq + quint32(gt06.at(1).size()));
    QCOMPARE(pReply.srcMac, QByteArray(LocalMac, 6));
    for (const Packet *p : {&pSyn, &pSynAck, &pAck, &pLogin, &pReply}) {
        QVERIFY(p->ipChecksumOk);
        QVERIFY(p->tcpChecksumOk);
    }
}

void TestPcapng::sequenceNumbers() {
    // Two connections interleaved; each direction's sequence numbers advance by the bytes sent.
    QList<CapturedFrame> frames;
    const QList<QByteArray> jt = vectorFrames(QStringLiteral("jt808_vectors.tsv"));
    QVERIFY(jt.size() > 20);
    for (int i = 0; i < 20; ++i) {
        CapturedFrame f;
        f.timeUsecs = 1700000000000000LL + i * 1000000LL;
        f.direction = i % 3 == 2 ? Direction::ToDevice : Direction::FromDevice;
        f.peerAddress = i % 2 ? QStringLiteral("2001:db8::42") : QStringLiteral("192.0.2.10");
        f.peerPort = i % 2 ? 50001 : 50000;
        f.localAddress = i % 2 ? QStringLiteral("2001:db8::1") : QStringLiteral("192.0.2.1");
        f.localPort = 5023;
        f.bytes = jt.at(i);
        frames << f;
    }
    Writer *w = nullptr;
    const QByteArray file = writeCapture(frames, {}, &w);
    QCOMPARE(w->connections(), 2);
    QCOMPARE(w->packetsWritten(), 20 + 2 * 3);
    QString error;
    const QList<Block> blocks = readBlocks(file, &error);
    QVERIFY(error.isEmpty());
    QHash<QByteArray, quint32> next;   // src|port -> next expected sequence number
    QHash<QByteArray, quint32> sent;   // what each side had sent at that time (for the ACK check)
    int data = 0;
    for (int i = 2; i < blocks.size(); ++i) {
        const Packet p = parsePacket(parseEpb(blocks[i].body).data);
        const QByteArray from = p.src + QByteArray::number(p.srcPort);
        const QByteArray to = p.dst + QByteArray::number(p.dstPort);
        if (p.flags & TcpSyn) {
            next[from] = p.seq + 1;
            continue;
        }
        QVERIFY2(next.contains(from), "data before the handshake");
        QCOMPARE(p.seq, next[from]);
        QCOMPARE(p.ack, next[to]);
        next[from] += quint32(p.payload.size());
        if (!p.payload.isEmpty()) {
            QCOMPARE(p.payload, jt.at(data));
            ++data;
        }
    }
    QCOMPARE(data, 20);
}

void TestPcapng::largePayloadIsSplit() {
    QByteArray big(150000, '\0');
    for (int i = 0; i < big.size(); ++i)
        big[i] = char(i * 7);
    WriterOptions o;
    o.handshake = false;
    Writer *w = nullptr;
    const QByteArray file = writeCapture({{1000000, Direction::FromDevice, QStringLiteral("192.0.2.5"), 1234, QString(),
                                           0, big, QString()}},
                                         o, &w);
    QCOMPARE(w->packetsWritten(), 3);  // 65000 + 65000 + 20000
    QString error;
    const QList<Block> blocks = readBlocks(file, &error);
    QVERIFY(error.isEmpty());
    QByteArray joined;
    quint32 seq = 0;
    for (int i = 2; i < blocks.size(); ++i) {
        const Packet p = parsePacket(parseEpb(blocks[i].body).data);
        QVERIFY(p.ipChecksumOk && p.tcpChecksumOk);
        if (i > 2)
            QCOMPARE(p.seq, seq);
        seq = p.seq + quint32(p.payload.size());
        joined += p.payload;
    }
    QCOMPARE(joined, big);
}

void TestPcapng::badAddressesAreWarned() {
    Writer *w = nullptr;
    WriterOptions o;
    o.localAddress = QStringLiteral("not an address");
    const QByteArray file = writeCapture(
        {{1, Direction::FromDevice, QStringLiteral("999.1.1.1"), 1, QString(), 0, QByteArray("x"), QString()},
         {2, Direction::FromDevice, QStringLiteral("192.0.2.1"), 1, QString(), 0, QByteArray(), QString()},
         {3, Direction::FromDevice, QStringLiteral("2001:db8::9"), 2, QStringLiteral("192.0.2.1"), 7, QByteArray("y"), QString()}},
        o, &w);
    QVERIFY(!file.isEmpty());
    QCOMPARE(w->framesWritten(), 2);   // the empty frame is skipped
    const QString all = w->warnings().join(QLatin1Char('\n'));
    QVERIFY2(all.contains(QLatin1String("999.1.1.1")), qPrintable(all));
    QVERIFY2(all.contains(QLatin1String("not an address")), qPrintable(all));
    QVERIFY2(all.contains(QLatin1String("empty frame")), qPrintable(all));
    // The IPv6 peer with an IPv4 local address: the local side becomes "::".
    QString error;
    const QList<Block> blocks = readBlocks(file, &error);
    const Packet last = parsePacket(parseEpb(blocks.last().body).data);
    QVERIFY(last.v6);
    QCOMPARE(last.dst, QByteArray(16, '\0'));
    QCOMPARE(last.dstPort, quint16(7));
}

void TestPcapng::writeErrorIsReported() {
    QFile full(QStringLiteral("/dev/full"));
    if (!full.open(QIODevice::WriteOnly | QIODevice::Unbuffered))
        QSKIP("/dev/full is not available");
    Writer w(&full);
    QVERIFY(!w.begin());
    QVERIFY2(w.errorString().contains(QLatin1String("space"), Qt::CaseInsensitive), qPrintable(w.errorString()));
    QVERIFY(!w.writeFrame({1, Direction::FromDevice, QStringLiteral("192.0.2.1"), 1, QString(), 0, QByteArray("x"), QString()}));
    QCOMPARE(w.packetsWritten(), 0);
}

void TestPcapng::tshark_data() {
    QTest::addColumn<QString>("vectors");
    QTest::addColumn<bool>("ipv6");
    QTest::newRow("gt06 over IPv4") << "gt06_vectors.tsv" << false;
    QTest::newRow("jt808 over IPv6") << "jt808_vectors.tsv" << true;
}

void TestPcapng::tshark() {
    QFETCH(QString, vectors);
    QFETCH(bool, ipv6);
    if (m_tshark.isEmpty())
        QSKIP("tshark is not installed (it is in the build environment: scripts/in-env)");
    const QList<QByteArray> real = vectorFrames(vectors);
    QVERIFY(real.size() > 50);

    // Device frames on two connections, each answered by a short server frame.
    QList<CapturedFrame> frames;
    QList<QByteArray> stream0;   // payloads of connection 0, in order
    const QString peerA = ipv6 ? QStringLiteral("2001:db8:1::7") : QStringLiteral("203.0.113.7");
    const QString peerB = ipv6 ? QStringLiteral("2001:db8:1::8") : QStringLiteral("203.0.113.8");
    const QString local = ipv6 ? QStringLiteral("2001:db8::1") : QStringLiteral("198.51.100.1");
    qint64 t = 1714567890000000LL;
    for (int i = 0; i < real.size(); ++i) {
        const bool a = i % 4 != 3;
        CapturedFrame in{t, Direction::FromDevice, a ? peerA : peerB, quint16(a ? 41000 : 42000), local, 5023, real[i],
                         QStringLiteral("frame %1").arg(i)};
        CapturedFrame out{t + 250, Direction::ToDevice, in.peerAddress, in.peerPort, local, 5023,
                          QByteArray("ACK") + QByteArray::number(i), QString()};
        frames << in << out;
        if (a)
            stream0 << in.bytes << out.bytes;
        t += 1000000;
    }
    const QString path = m_dir.filePath(vectors + QStringLiteral(".pcapng"));
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        Writer w(&f, WriterOptions{QStringLiteral("TrackerDesk test"), QStringLiteral("td"), QString(), local, 5023, true, 65000});
        QVERIFY(w.begin());
        for (const CapturedFrame &fr : frames)
            QVERIFY(w.writeFrame(fr));
        QVERIFY(w.finish());
        QCOMPARE(w.packetsWritten(), frames.size() + 2 * 3);
    }

    // Every packet, its payload and the ports as tshark decodes them.
    const Tool fields = runTool(m_tshark, {QStringLiteral("-r"), path, QStringLiteral("-T"), QStringLiteral("fields"),
                                           QStringLiteral("-e"), QStringLiteral("frame.number"),
                                           QStringLiteral("-e"), ipv6 ? QStringLiteral("ipv6.src") : QStringLiteral("ip.src"),
                                           QStringLiteral("-e"), QStringLiteral("tcp.srcport"),
                                           QStringLiteral("-e"), QStringLiteral("tcp.dstport"),
                                           QStringLiteral("-e"), QStringLiteral("tcp.payload")});
    QVERIFY2(fields.code == 0, fields.err.constData());
    const QList<QByteArray> lines = fields.out.trimmed().split('\n');
    QCOMPARE(lines.size(), frames.size() + 6);
    int k = 0;
    for (const QByteArray &line : lines) {
        const QList<QByteArray> c = line.split('\t');
        QCOMPARE(c.size(), 5);
        if (c[4].isEmpty())
            continue;  // handshake
        const CapturedFrame &f = frames.at(k++);
        QCOMPARE(QByteArray::fromHex(c[4]), f.bytes);
        const bool in = f.direction == Direction::FromDevice;
        QCOMPARE(c[1], (in ? f.peerAddress : local).toLatin1());
        QCOMPARE(c[2].toInt(), in ? f.peerPort : 5023);
        QCOMPARE(c[3].toInt(), in ? 5023 : f.peerPort);
    }
    QCOMPARE(k, frames.size());

    // No bad checksums (validation switched on) and no TCP analysis complaints (lost
    // segments, retransmissions, unseen ACKs): the sequence numbers are consistent.
    const auto problemsIn = [this](const QString &file) {
        return runTool(m_tshark, {QStringLiteral("-r"), file, QStringLiteral("-o"), QStringLiteral("ip.check_checksum:TRUE"),
                                  QStringLiteral("-o"), QStringLiteral("tcp.check_checksum:TRUE"), QStringLiteral("-Y"),
                                  QStringLiteral("tcp.analysis.flags || ip.checksum.status == 0 || tcp.checksum.status == 0 "
                                                 "|| _ws.expert.severity >= warning")});
    };
    const Tool problems = problemsIn(path);
    QVERIFY2(problems.code == 0, problems.err.constData());
    QVERIFY2(problems.out.trimmed().isEmpty(), problems.out.left(2000).constData());
    // The same check sees a damaged copy: one TCP sequence number moved, one byte of the
    // last payload flipped (so the filter above is not blind).
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QByteArray bytes = f.readAll();
        QString error;
        const QList<Block> blocks = readBlocks(bytes, &error);
        QVERIFY(error.isEmpty());
        qsizetype at = 0;
        for (int i = 0; i < 12; ++i)
            at += blocks[i].body.size() + 12;
        const int tcpSeq = 8 + 20 + 14 + (ipv6 ? 40 : 20) + 4;   // block header + EPB fields + eth + ip
        bytes[at + tcpSeq + 3] = char(bytes[at + tcpSeq + 3] + 100);
        qsizetype lastAt = bytes.size() - (blocks.last().body.size() + 12);
        const Epb last = parseEpb(blocks.last().body);
        bytes[lastAt + 8 + 20 + last.data.size() - 1] = char(bytes[lastAt + 8 + 20 + last.data.size() - 1] ^ 0x55);
        const QString damaged = m_dir.filePath(vectors + QStringLiteral(".damaged.pcapng"));
        QFile d(damaged);
        QVERIFY(d.open(QIODevice::WriteOnly));
        d.write(bytes);
        d.close();
        const Tool seen = problemsIn(damaged);
        QVERIFY2(seen.code == 0, seen.err.constData());
        QVERIFY2(seen.out.trimmed().split('\n').size() >= 2, seen.out.constData());
    }

    // "Follow TCP stream" of the first connection gives back exactly its bytes, in order.
    const Tool follow = runTool(m_tshark, {QStringLiteral("-r"), path, QStringLiteral("-q"), QStringLiteral("-z"),
                                           QStringLiteral("follow,tcp,raw,0")});
    QVERIFY2(follow.code == 0, follow.err.constData());
    QByteArray followed;
    int chunks = 0;
    bool inBody = false;
    for (const QByteArray &raw : follow.out.split('\n')) {
        const QByteArray line = raw.trimmed();
        if (line.startsWith("====")) {
            if (inBody)
                break;
            continue;
        }
        if (line.startsWith("Follow:") || line.startsWith("Filter:") || line.startsWith("Node 0:")
            || line.startsWith("Node 1:")) {
            inBody = true;
            continue;
        }
        if (inBody && !line.isEmpty()) {
            followed += QByteArray::fromHex(line);
            ++chunks;
        }
    }
    QByteArray expected;
    for (const QByteArray &b : stream0)
        expected += b;
    QCOMPARE(chunks, stream0.size());
    QCOMPARE(followed, expected);
}

QTEST_GUILESS_MAIN(TestPcapng)
#include "tst_pcapng.moc"
