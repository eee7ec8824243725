// JT/T 808 stream framing: escaping, every vector split at every byte, all vectors
// concatenated with garbage in any chunking, stray flags, strict checksum, buffer bounds,
// sub-package reassembly, broken frames.
#include "jt808_vectors.h"

#include "trackerdesk/protocol/jt808.h"
#include "trackerdesk/protocol/protocol.h"

#include <QRandomGenerator>
#include <QTest>

using namespace td::proto;
namespace j = td::proto::jt808;

namespace {

QByteArray hx(const char *s) { return QByteArray::fromHex(QByteArray(s)); }

// The wire form of a vector: some Traccar vectors are quoted post-framing (a raw 0x7e inside);
// a device would have escaped them.
// Also, a few carry raw 7d bytes. The wire form is the escaped form of what decodeFrame read.
QByteArray wireForm(const QByteArray &v) {
    if (v.isEmpty() || v[0] != 0x7E)
        return v;
    const QByteArray b = j::protocol().decodeFrame(v).bytes;
    return QByteArray(1, 0x7E) + j::escape(b.mid(1, b.size() - 2)) + QByteArray(1, 0x7E);
}

QString signature(const DecodedFrame &f) {
    QStringList s{f.protocol, QString::number(f.type), f.typeName, f.summary, toHex(f.bytes), toHex(f.wire),
                  QString::number(f.serial), f.warnings.join(QLatin1Char('|')), formatFieldTree(f),
                  messageKindName(f.message.kind), f.message.deviceId, QString::number(f.message.positions.size())};
    if (f.message.kind != MessageKind::TimeRequest)   // time replies carry the current time
        for (const QByteArray &r : f.replies)
            s << toHex(r);
    return s.join(QLatin1Char('\n'));
}

struct Collected {
    QList<DecodedFrame> frames;
    QByteArray garbage;
    QList<StreamEvent> dropped;
    int maxBuffered = 0;
};

Collected feedChunks(ProtocolSession &s, const QByteArray &stream, const QList<int> &sizes) {
    Collected c;
    int pos = 0, i = 0;
    while (pos < stream.size()) {
        const int n = qMin(sizes[i++ % sizes.size()], int(stream.size()) - pos);
        for (const StreamEvent &e : s.feed(stream.mid(pos, n))) {
            if (e.kind == StreamEvent::Frame)
                c.frames << e.frame;
            else if (e.kind == StreamEvent::Garbage)
                c.garbage += e.bytes;
            else
                c.dropped << e;
        }
        c.maxBuffered = qMax(c.maxBuffered, s.bufferedBytes());
        pos += n;
    }
    return c;
}

std::unique_ptr<ProtocolSession> session(SessionOptions o = {}) { return j::protocol().createSession(o); }

// One sub-package packet (header with bit 13, package total/index), escaped with flags.
QByteArray packet(quint16 id, const j::Terminal &t, quint16 serial, int total, int index, const QByteArray &body) {
    QByteArray c;
    auto put16 = [&](int v) { c.append(char(v >> 8)); c.append(char(v & 0xFF)); };
    put16(id);
    put16(int(body.size()) | 0x2000 | (t.v2019 ? 0x4000 : 0));
    if (t.v2019)
        c.append(char(t.protocolVersion));
    c.append(t.id);
    put16(serial);
    put16(total);
    put16(index);
    c.append(body);
    c.append(char(j::checksum(c)));
    return QByteArray(1, 0x7E) + j::escape(c) + QByteArray(1, 0x7E);
}

// The body of a frame built by an encoder (unescaped, between header and checksum).
QByteArray bodyOf(const QByteArray &frame, bool v2019) {
    const QByteArray c = j::unescape(frame.mid(1, frame.size() - 2));
    const int h = v2019 ? 17 : 12;
    return c.mid(h, c.size() - h - 1);
}

QByteArray locationBody(double lat, double lon, int minute) {
    Position p;
    p.time = QDateTime(QDate(2024, 5, 1), QTime(10, minute, 0), QTimeZone::UTC);
    p.latitude = lat;
    p.longitude = lon;
    p.valid = true;
    p.speedKmh = 12.3;
    p.satellites = 9;
    return bodyOf(j::encodeLocation(*j::terminalFromId(QStringLiteral("1")), 0, p), false);
}

} // namespace

class TestJt808Framing : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void escaping();
    void leadingGarbage();
    void everyVectorSplitAtEveryByte();
    void concatenatedWithGarbage_data();
    void concatenatedWithGarbage();
    void strayFlags();
    void strictChecksum();
    void bufferBound();
    void subPackages();
    void subPackagesOutOfOrder2019();
    void subPackageMissingAndBound();
    void brokenFrames();
    void downlinkStream();
    void optionsMidStream();

private:
    QList<Jt808Vector> m_messages;   // every vector that is a message (not the escape-only rows)
};

void TestJt808Framing::initTestCase() {
    QString err;
    const QList<Jt808Vector> all = loadJt808Vectors(&err);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    for (const Jt808Vector &v : all)
        if (!v.isEscapeOnly())
            m_messages << v;
    QCOMPARE(m_messages.size(), 131);
}

void TestJt808Framing::escaping() {
    // Traccar Jt808FrameDecoderTest / Jt808FrameEncoderTest.
    QCOMPARE(j::unescape(hx("307d02087d0155")).toHex(), QByteArray("307e087d55"));
    QCOMPARE(j::escape(hx("307e087d55")).toHex(), QByteArray("307d02087d0155"));
    const DecodedFrame f = j::protocol().decodeFrame(hx("7e307d02087d01557e"));
    QCOMPARE(f.bytes.toHex(), QByteArray("7e307e087d557e"));   // bytes are unescaped, flags kept
    QCOMPARE(f.wire.toHex(), QByteArray("7e307d02087d01557e"));
    QVERIFY(!f.ok());   // 5 bytes are not a JT/T 808 message
    QVERIFY(checkFieldCoverage(f.fields, int(f.bytes.size())).isEmpty());
    QStringList problems;
    QCOMPARE(j::unescape(hx("017d0302"), &problems).toHex(), QByteArray("017d0302"));
    QCOMPARE(problems.size(), 1);
    QVERIFY(problems[0].contains(QLatin1String("7d 03")));
    problems.clear();
    j::unescape(hx("017d"), &problems);
    QCOMPARE(problems.size(), 1);
    // Round trip of every byte value.
    QByteArray all;
    for (int i = 0; i < 256; ++i)
        all.append(char(i));
    QCOMPARE(j::unescape(j::escape(all)), all);
    QVERIFY(!j::escape(all).contains(char(0x7E)));
}

void TestJt808Framing::leadingGarbage() {
    // Traccar T115: "2424" before the frame is skipped as garbage.
    auto s = session();
    const QList<StreamEvent> ev = s->feed(hx("24247e000200000145357092170006807e"));
    QCOMPARE(ev.size(), 2);
    QCOMPARE(ev[0].kind, StreamEvent::Garbage);
    QCOMPARE(ev[0].bytes.toHex(), QByteArray("2424"));
    QCOMPARE(ev[1].kind, StreamEvent::Frame);
    QCOMPARE(ev[1].frame.type, 0x0002);
    QCOMPARE(s->bufferedBytes(), 0);
}

void TestJt808Framing::everyVectorSplitAtEveryByte() {
    for (const Jt808Vector &v : std::as_const(m_messages)) {
        const QByteArray wire = wireForm(v.bytes);
        const DecodedFrame expected = j::protocol().decodeFrame(wire);
        const QString sig = signature(expected);
        QVERIFY2(checkFieldCoverage(expected.fields, int(expected.bytes.size())).isEmpty(), qPrintable(v.id()));
        for (int k = 0; k <= wire.size(); ++k) {
            auto s = session();
            const Collected c = feedChunks(*s, wire, {k == 0 ? int(wire.size()) : k, int(wire.size())});
            QVERIFY2(c.frames.size() == 1 && c.garbage.isEmpty() && c.dropped.isEmpty(),
                     qPrintable(QStringLiteral("%1 split at %2: %3 frames, %4 garbage bytes, %5 dropped")
                                    .arg(v.id()).arg(k).arg(c.frames.size()).arg(c.garbage.size()).arg(c.dropped.size())));
            QCOMPARE(signature(c.frames[0]), sig);
            QCOMPARE(s->bufferedBytes(), 0);
        }
    }
}

void TestJt808Framing::concatenatedWithGarbage_data() {
    QTest::addColumn<QList<int>>("sizes");
    for (int n : {1, 2, 3, 7, 13, 64, 1000, 100000})
        QTest::newRow(qPrintable(QStringLiteral("chunks of %1").arg(n))) << QList<int>{n};
    QRandomGenerator rng(808);
    QList<int> random;
    for (int i = 0; i < 500; ++i)
        random << 1 + int(rng.bounded(200));
    QTest::newRow("random chunks") << random;
}

void TestJt808Framing::concatenatedWithGarbage() {
    QFETCH(QList<int>, sizes);
    // Garbage that a shared port sees: HTTP, TLS, binary noise (never 0x7e or '(').
    const QList<QByteArray> junk = {QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), hx("160301020001"),
                                    QByteArray(), hx("00"), QByteArray("SSH-2.0-OpenSSH_9.6\r\n"), hx("ff7d01fe"),
                                    QByteArray()};
    QByteArray stream, garbage;
    QStringList sigs;
    for (int i = 0; i < m_messages.size(); ++i) {
        const QByteArray g = junk[i % junk.size()];
        stream += g;
        garbage += g;
        const QByteArray wire = wireForm(m_messages[i].bytes);
        stream += wire;
        sigs << signature(j::protocol().decodeFrame(wire));
    }
    stream += "trailing junk";
    garbage += "trailing junk";
    auto s = session();
    const Collected c = feedChunks(*s, stream, sizes);
    QCOMPARE(c.dropped.size(), 0);
    QCOMPARE(c.frames.size(), sigs.size());
    for (int i = 0; i < sigs.size(); ++i)
        QVERIFY2(signature(c.frames[i]) == sigs[i], qPrintable(m_messages[i].id()));
    QCOMPARE(c.garbage.toHex(), garbage.toHex());
    QCOMPARE(s->bufferedBytes(), 0);
    QVERIFY(c.maxBuffered <= 2 * 1100);
}

void TestJt808Framing::strayFlags() {
    const QByteArray hb = hx("7e000200000145357092170006807e");
    for (const QByteArray &prefix : {hx("7e"), hx("7e7e"), QByteArray("\x7e" "abc"), QByteArray("\x7e" "0123456789abcdef0123")}) {
        auto s = session();
        const Collected c = feedChunks(*s, prefix + hb + prefix.left(1) + hb, {1});
        QCOMPARE(c.frames.size(), 2);
        QCOMPARE(c.frames[0].type, 0x0002);
        QVERIFY(c.frames[0].ok());
        QVERIFY(c.frames[1].ok());
        QCOMPARE(c.garbage, prefix + prefix.left(1));
        QCOMPARE(c.dropped.size(), 0);
    }
}

void TestJt808Framing::strictChecksum() {
    const QByteArray t088 = [&] {
        for (const Jt808Vector &v : std::as_const(m_messages))
            if (v.id() == QLatin1String("T088"))
                return v.bytes;
        return QByteArray();
    }();
    QVERIFY(!t088.isEmpty());
    auto lax = session();
    const QList<StreamEvent> a = lax->feed(t088);
    QCOMPARE(a.size(), 1);
    QCOMPARE(a[0].kind, StreamEvent::Frame);
    QVERIFY(a[0].frame.warnings.join(QLatin1Char(' ')).contains(QLatin1String("checksum mismatch")));
    QCOMPARE(a[0].frame.message.positions.size(), 1);
    QCOMPARE(a[0].frame.replies.size(), 1);   // still acknowledged, as Traccar does
    SessionOptions strict;
    strict.strictChecksum = true;
    auto st = session(strict);
    const QList<StreamEvent> b = st->feed(t088 + hx("7e000200000145357092170006807e"));
    QCOMPARE(b.size(), 2);
    QCOMPARE(b[0].kind, StreamEvent::Dropped);
    QCOMPARE(b[0].bytes, t088);
    QVERIFY(b[0].reason.contains(QLatin1String("checksum")));
    QCOMPARE(b[1].kind, StreamEvent::Frame);
}

void TestJt808Framing::bufferBound() {
    const QByteArray small = hx("7e000200000145357092170006807e");
    // No end flag ever: dropped at the bound, the session recovers.
    for (int chunk : {1, 100, 5000}) {
        SessionOptions o;
        o.maxBufferedBytes = 1000;
        auto s = session(o);
        const QByteArray endless = QByteArray(1, 0x7E) + QByteArray(4000, 'A');
        const Collected c = feedChunks(*s, endless + small, {chunk});
        QVERIFY(c.dropped.size() >= 1);
        QVERIFY(c.dropped[0].reason.contains(QLatin1String("bound")));
        QVERIFY(c.maxBuffered <= 1000 + chunk);
        QCOMPARE(c.frames.size(), 1);
        QCOMPARE(c.frames[0].type, 0x0002);
        QCOMPARE(s->bufferedBytes(), 0);
    }
    // The default bound is the longest possible JT/T 808 frame, whatever maxBufferedBytes says.
    auto s = session();
    const QList<StreamEvent> ev = s->feed(QByteArray(1, 0x7E) + QByteArray(3000, 'B'));
    QCOMPARE(ev.size(), 1);
    QCOMPARE(ev[0].kind, StreamEvent::Dropped);
    QCOMPARE(s->bufferedBytes(), 0);
}

void TestJt808Framing::subPackages() {
    const j::Terminal t = *j::terminalFromId(QStringLiteral("013586840339"));
    // A 0x0704 batch of three reports, cut into three packets of uneven size.
    QByteArray body = hx("000301");
    for (int i = 0; i < 3; ++i) {
        const QByteArray item = locationBody(45.1 + i * 0.001, 9.4, i);
        body.append(char(item.size() >> 8));
        body.append(char(item.size()));
        body.append(item);
    }
    const QList<QByteArray> parts = {body.left(20), body.mid(20, 50), body.mid(70)};
    QByteArray stream;
    for (int i = 0; i < 3; ++i)
        stream += packet(0x0704, t, quint16(100 + i), 3, i + 1, parts[i]);
    for (const QList<int> &sizes : {QList<int>{1}, QList<int>{int(stream.size())}, QList<int>{5, 17}}) {
        auto s = session();
        const Collected c = feedChunks(*s, stream, sizes);
        QCOMPARE(c.dropped.size(), 0);
        QCOMPARE(c.frames.size(), 4);
        for (int i = 0; i < 3; ++i) {
            const DecodedFrame &p = c.frames[i];
            QVERIFY2(p.ok(), qPrintable(p.warnings.join(QStringLiteral("; "))));
            QVERIFY(p.typeName.contains(QStringLiteral("packet %1 of 3").arg(i + 1)));
            QVERIFY(p.message.positions.isEmpty());
            QCOMPARE(p.replies.size(), 1);
            QCOMPARE(p.replies[0], j::encodeGeneralResponse(t, 0, quint16(100 + i), 0x0704));
            QVERIFY(checkFieldCoverage(p.fields, int(p.bytes.size())).isEmpty());
        }
        const DecodedFrame &whole = c.frames[3];
        QVERIFY2(whole.ok(), qPrintable(whole.warnings.join(QStringLiteral("; "))));
        QCOMPARE(whole.type, 0x0704);
        QVERIFY(whole.typeName.contains(QLatin1String("reassembled from 3 packets")));
        QCOMPARE(whole.serial, 100);
        QCOMPARE(whole.message.positions.size(), 3);
        QVERIFY(qAbs(whole.message.positions[2].latitude - 45.102) < 1e-9);
        QVERIFY(whole.replies.isEmpty());   // every packet was acknowledged
        QVERIFY(checkFieldCoverage(whole.fields, int(whole.bytes.size())).isEmpty());
        QCOMPARE(s->bufferedBytes(), 0);
    }
    // The inspector can decode one packet on its own.
    const DecodedFrame one = j::protocol().decodeFrame(packet(0x0704, t, 100, 3, 1, parts[0]));
    QVERIFY(one.ok());
    QCOMPARE(one.message.kind, MessageKind::Unknown);
}

void TestJt808Framing::subPackagesOutOfOrder2019() {
    const j::Terminal t = *j::terminalFromId(QStringLiteral("13912344329"), true);
    j::RegisterInfo info;
    info.model = QStringLiteral("TD-SPLIT");
    info.plate = QStringLiteral("AB123");
    const QByteArray body = bodyOf(j::encodeRegister(t, 0, info), true);
    QCOMPARE(body.size(), 76 + 5);
    auto s = session();
    const Collected c = feedChunks(*s, packet(0x0100, t, 8, 2, 2, body.mid(40)) + packet(0x0100, t, 7, 2, 1, body.left(40)), {3});
    QCOMPARE(c.frames.size(), 3);
    QCOMPARE(c.frames[0].replies.toList(), QList<QByteArray>{j::encodeGeneralResponse(t, 0, 8, 0x0100)});
    QCOMPARE(c.frames[1].replies.toList(), QList<QByteArray>{j::encodeGeneralResponse(t, 0, 7, 0x0100)});
    const DecodedFrame &whole = c.frames[2];
    QVERIFY2(whole.ok(), qPrintable(whole.warnings.join(QStringLiteral("; "))));
    QCOMPARE(whole.message.model, QStringLiteral("TD-SPLIT"));
    QCOMPARE(whole.message.kind, MessageKind::Login);
    QCOMPARE(whole.replies.size(), 1);   // the register response, for the serial of packet 1
    QCOMPARE(whole.replies[0], j::encodeRegisterResponse(t, 0, 7, 0, "00000000013912344329"));
}

void TestJt808Framing::subPackageMissingAndBound() {
    const j::Terminal t = *j::terminalFromId(QStringLiteral("013586840339"));
    auto s = session();
    const QByteArray stream = packet(0x0104, t, 1, 3, 1, QByteArray(30, 'a')) + packet(0x0104, t, 3, 3, 3, QByteArray(30, 'c'))
                              + packet(0x0801, t, 4, 2, 1, QByteArray(30, 'x'));
    const Collected c = feedChunks(*s, stream, {int(stream.size())});
    QCOMPARE(c.frames.size(), 3);
    QCOMPARE(c.dropped.size(), 1);
    QVERIFY(c.dropped[0].reason.contains(QLatin1String("2 of 3 packets")));
    QCOMPARE(c.dropped[0].bytes, QByteArray(30, 'a') + QByteArray(30, 'c'));
    QCOMPARE(s->bufferedBytes(), 30);   // the 0x0801 packet waits for its partner

    SessionOptions o;
    o.maxBufferedBytes = 500;
    auto b = session(o);
    QByteArray big;
    for (int i = 1; i <= 5; ++i)
        big += packet(0x0801, t, quint16(i), 9, i, QByteArray(200, char('0' + i)));
    const Collected d = feedChunks(*b, big, {64});
    QCOMPARE(d.frames.size(), 5);
    QCOMPARE(d.dropped.size(), 1);
    QVERIFY(d.dropped[0].reason.contains(QLatin1String("exceeds 500")));
    QVERIFY(b->bufferedBytes() <= 500);
}

void TestJt808Framing::brokenFrames() {
    const auto &p = j::protocol();
    auto check = [&](const QByteArray &bytes, const QString &warning) {
        const DecodedFrame f = p.decodeFrame(bytes);
        QVERIFY2(!f.ok(), qPrintable(bytes.toHex()));
        QVERIFY2(f.warnings.join(QLatin1Char('|')).contains(warning),
                 qPrintable(bytes.toHex() + " -> " + f.warnings.join(QLatin1Char('|')).toLatin1()));
        const QString cov = checkFieldCoverage(f.fields, int(f.bytes.size()));
        QVERIFY2(cov.isEmpty(), qPrintable(cov));
        QCOMPARE(f.protocol, QStringLiteral("jt808"));
        (void)formatFieldTree(f);
    };
    check(hx("7e000200000145357092170006817e"), QStringLiteral("checksum mismatch"));
    check(hx("7e0002000001453570"), QStringLiteral("truncated"));
    check(hx("7e00020000014535707e"), QStringLiteral("truncated"));
    check(hx("7e7e"), QStringLiteral("too short"));
    check(hx("7e"), QStringLiteral("too short"));
    check(QByteArray(), QStringLiteral("too short"));
    check(hx("7e0200001c0145357092170006000000007e"), QStringLiteral("too short: "));
    // Header says 1023 bytes, 5 follow (checksum right): decoded with a length warning.
    QByteArray huge = hx("020003ff01453570921700060102030405");
    huge.append(char(j::checksum(huge)));
    check(QByteArray(1, 0x7E) + huge + QByteArray(1, 0x7E), QStringLiteral("the header says 1023"));
    // A bad escape 7d 03 inside an otherwise consistent frame.
    QByteArray esc = hx("000200020145357092170006");
    esc += hx("7d03");
    esc.append(char(j::checksum(esc)));
    const QByteArray escWire = QByteArray(1, 0x7E) + esc + QByteArray(1, 0x7E);
    check(escWire, QStringLiteral("bad escape 7d 03"));
    auto s = session();
    const QList<StreamEvent> ev = s->feed(escWire);
    QCOMPARE(ev.size(), 1);
    QCOMPARE(ev[0].kind, StreamEvent::Frame);
    QVERIFY(ev[0].frame.warnings.join(QLatin1Char(' ')).contains(QLatin1String("bad escape")));
    // Truncated item lists and batches are reported, not fatal.
    QByteArray loc = locationBody(1, 2, 3);
    loc += hx("3004aa");   // an item declaring 4 bytes with 1 left
    const QByteArray locFrame = j::buildFrame(j::msg::Location, *j::terminalFromId(QStringLiteral("1")), 1, loc);
    check(locFrame, QStringLiteral("runs past the end"));
    QCOMPARE(p.decodeFrame(locFrame).message.positions.size(), 1);
    check(j::buildFrame(j::msg::LocationBatch, *j::terminalFromId(QStringLiteral("1")), 1, hx("000201001c0000")),
          QStringLiteral("runs past the end"));
    check(j::buildFrame(j::msg::Register, *j::terminalFromId(QStringLiteral("1")), 1, hx("0001")), QStringLiteral("too short: "));
    // Random bytes never crash and always tile.
    QRandomGenerator rng(1234);
    for (int i = 0; i < 3000; ++i) {
        QByteArray r(int(rng.bounded(60)), Qt::Uninitialized);
        for (char &ch : r)
            ch = char(rng.bounded(256));
        if (i % 2)
            r = QByteArray(1, 0x7E) + r + QByteArray(1, 0x7E);
        const DecodedFrame f = p.decodeFrame(r);
        QVERIFY(checkFieldCoverage(f.fields, int(f.bytes.size())).isEmpty());
        auto rs = session();
        rs->feed(r);
        QVERIFY(rs->bufferedBytes() <= r.size());
    }
}

void TestJt808Framing::downlinkStream() {
    SessionOptions o;
    o.direction = Direction::ToDevice;
    auto s = session(o);
    const QByteArray stream = hx("7e8001000501453570921700000006000200047e7e8103000a02453031334900000100000029040000000a927e"
                                 "7e81050001024530313349000004bd7e");
    const Collected c = feedChunks(*s, stream, {4});
    QCOMPARE(c.frames.size(), 3);
    for (const DecodedFrame &f : c.frames) {
        QVERIFY(f.ok());
        QCOMPARE(f.message.kind, MessageKind::Downlink);
        QVERIFY(f.replies.isEmpty());
    }
    QCOMPARE(c.frames[1].summary, QStringLiteral("0x0029=10 s"));
}

void TestJt808Framing::optionsMidStream() {
    Position p;
    p.time = QDateTime(QDate(2024, 1, 1), QTime(12, 0), QTimeZone::UTC);
    p.valid = true;
    j::LocationOptions lo;
    lo.timeZoneMinutes = 0;
    const QByteArray f = j::encodeLocation(*j::terminalFromId(QStringLiteral("5")), 1, p, lo);
    auto s = session();
    QCOMPARE(s->feed(f)[0].frame.message.positions[0].time, p.time.addSecs(-8 * 3600));
    SessionOptions utc;
    utc.timeZoneMinutes = 0;
    s->setOptions(utc);
    QCOMPARE(s->feed(f)[0].frame.message.positions[0].time, p.time);
}

QTEST_GUILESS_MAIN(TestJt808Framing)
#include "tst_jt808_framing.moc"
