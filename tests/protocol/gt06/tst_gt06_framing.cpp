// Stream framing of the GT06 session (ProtocolSession::feed): every real vector split at
// every byte and fed one byte at a time gives the same events as fed whole; all vectors
// concatenated with real-world garbage between them (a TLS ClientHello, an HTTP request,
// a SCPI probe) give the same frames; lying lengths, oversized lengths, the buffer bound,
// strict checksums and the Topin dialect on a connection.
#include "gt06_vectors.h"

#include "trackerdesk/protocol/checksum.h"
#include "trackerdesk/protocol/gt06.h"
#include "trackerdesk/protocol/protocol.h"

#include <QTest>

#include <numeric>

using namespace td::proto;

namespace {

const QList<Gt06Vector> &vectors() {
    static const QList<Gt06Vector> v = [] {
        QString err;
        QList<Gt06Vector> rows = loadGt06Vectors(&err);
        if (!err.isEmpty())
            qFatal("%s", qPrintable(err));
        return rows;
    }();
    return v;
}

QByteArray hex(const char *h) { return QByteArray::fromHex(QByteArray(h)); }

// What came out of a session, reduced to comparable values.
struct Outcome {
    QList<QByteArray> frames;     // frame bytes in order
    QList<QByteArray> dropped;    // dropped bytes in order
    QByteArray garbage;           // all garbage bytes, concatenated
    QByteArray order;             // 'F', 'G', 'D' per event, garbage runs collapsed
    int buffered = 0;
    bool operator==(const Outcome &o) const {
        return frames == o.frames && dropped == o.dropped && garbage == o.garbage && buffered == o.buffered;
    }
};

void collect(Outcome &out, const QList<StreamEvent> &events) {
    for (const StreamEvent &e : events) {
        switch (e.kind) {
        case StreamEvent::Frame:
            out.frames << e.frame.bytes;
            QVERIFY(checkFieldCoverage(e.frame.fields, int(e.frame.bytes.size())).isEmpty());
            out.order += 'F';
            break;
        case StreamEvent::Garbage:
            QVERIFY(!e.bytes.isEmpty());
            QVERIFY(!e.reason.isEmpty());
            out.garbage += e.bytes;
            if (!out.order.endsWith('G'))
                out.order += 'G';
            break;
        case StreamEvent::Dropped:
            QVERIFY(!e.reason.isEmpty());
            out.dropped << e.bytes;
            out.order += 'D';
            break;
        }
    }
}

Outcome feedChunks(const QByteArray &stream, const QList<int> &cuts, const SessionOptions &o = {}) {
    auto s = gt06Protocol().createSession(o);
    Outcome out;
    int pos = 0;
    for (int cut : cuts) {
        collect(out, s->feed(stream.mid(pos, cut - pos)));
        pos = cut;
    }
    collect(out, s->feed(stream.mid(pos)));
    out.buffered = s->bufferedBytes();
    return out;
}

Outcome feedWhole(const QByteArray &stream, const SessionOptions &o = {}) { return feedChunks(stream, {}, o); }

Outcome feedBytewise(const QByteArray &stream, const SessionOptions &o = {}) {
    auto s = gt06Protocol().createSession(o);
    Outcome out;
    for (int i = 0; i < stream.size(); ++i)
        collect(out, s->feed(stream.mid(i, 1)));
    out.buffered = s->bufferedBytes();
    return out;
}

Outcome feedEvery(const QByteArray &stream, int chunk) {
    auto s = gt06Protocol().createSession();
    Outcome out;
    for (int i = 0; i < stream.size(); i += chunk)
        collect(out, s->feed(stream.mid(i, chunk)));
    out.buffered = s->bufferedBytes();
    return out;
}

QString describe(const Outcome &o) {
    QStringList f;
    for (const QByteArray &b : o.frames)
        f << QString::fromLatin1(b.toHex());
    return QStringLiteral("frames [%1] garbage %2 dropped %3 buffered %4")
        .arg(f.join(QLatin1Char(' ')), QString::fromLatin1(o.garbage.toHex()))
        .arg(o.dropped.size())
        .arg(o.buffered);
}

// A real TLS 1.2 ClientHello start (record + handshake header, random, cipher list) as sent
// by scanners to tracker ports, and the probes seen in the wramosg4 log.
const QByteArray &tlsClientHello() {
    static const QByteArray b = hex(
        "160301012c010001280303a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
        "20e3f1c2d4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c0026c02bc02fc02cc030"
        "cca9cca8c009c013c00ac014009c009d002f0035c012000a130113021303010000b9000000170015000012"
        "6578616d706c652e696e76616c6964000500050100000000000a000a0008001d001700180019000b00020100");
    return b;
}
const QByteArray kHttp("GET / HTTP/1.1\r\n\r\n");
const QByteArray kIdn("*IDN?\n");

// The outcome of one vector fed alone, whole.
Outcome reference(const Gt06Vector &v) { return feedWhole(v.bytes); }

} // namespace

class TstGt06Framing : public QObject {
    Q_OBJECT

private slots:
    void splitEverywhere_data();
    void splitEverywhere();
    void verifyFrameRows();
    void concatenatedWithGarbage();
    void garbageOnly();
    void falseStartBeforeFrame();
    void lyingLengths();
    void oversizedLength();
    void bufferBound();
    void strictChecksum();
    void topinConnection();
    void idleSessionHoldsNothing();
};

void TstGt06Framing::splitEverywhere_data() {
    QTest::addColumn<int>("index");
    for (int i = 0; i < ::vectors().size(); ++i)
        QTest::newRow(qPrintable(::vectors()[i].tag())) << i;
}

void TstGt06Framing::splitEverywhere() {
    QFETCH(int, index);
    const Gt06Vector &v = ::vectors()[index];
    const Outcome whole = reference(v);
    // Complete vectors come out as frames; nothing is lost.
    QByteArray accounted;
    for (const QByteArray &b : whole.frames)
        accounted += b;
    QVERIFY2(accounted.size() + whole.garbage.size() + whole.buffered
                     + std::accumulate(whole.dropped.begin(), whole.dropped.end(), 0, [](int a, const QByteArray &b) { return a + int(b.size()); })
                 == v.bytes.size(),
             qPrintable(describe(whole)));
    if (v.bytes.endsWith("\r\n"))
        QVERIFY2(!whole.frames.isEmpty(), qPrintable(describe(whole)));
    for (int k = 1; k < v.bytes.size(); ++k) {
        const Outcome split = feedChunks(v.bytes, {k});
        if (!(split == whole))
            QFAIL(qPrintable(QStringLiteral("split at %1: %2\nwhole: %3").arg(k).arg(describe(split), describe(whole))));
    }
    const Outcome bytewise = feedBytewise(v.bytes);
    QVERIFY2(bytewise == whole, qPrintable(describe(bytewise) + QStringLiteral("\nwhole: ") + describe(whole)));
}

void TstGt06Framing::verifyFrameRows() {
    // Traccar's frame decoder tests: the session must cut exactly these frames.
    int rows = 0;
    for (const Gt06Vector &v : ::vectors()) {
        if (!v["traccar_check"].startsWith(QLatin1String("verifyFrame")))
            continue;
        ++rows;
        const Outcome o = feedWhole(v.bytes);
        QVERIFY2(o.frames == QList<QByteArray>{v.bytes}, qPrintable(v.tag() + QLatin1Char(' ') + describe(o)));
        QVERIFY(o.garbage.isEmpty());
    }
    QCOMPARE(rows, 9);
    // Three 0xFD frames in one TCP segment (Traccar test) come out as three frames.
    const Outcome fd = feedWhole(::vectors()[151].bytes);
    QCOMPARE(fd.frames.size(), 3);
    QCOMPARE(fd.frames[0].size(), 97);
}

void TstGt06Framing::concatenatedWithGarbage() {
    // Every vector that stands alone as complete frames, one after the other, with garbage
    // between them; expected: the same frames, and exactly the garbage we put in.
    const QByteArray garbages[] = {tlsClientHello(), kHttp, kIdn};
    QByteArray stream, expectedGarbage;
    QList<QByteArray> expectedFrames;
    int used = 0, g = 0;
    for (const Gt06Vector &v : ::vectors()) {
        const Outcome ref = reference(v);
        if (ref.frames.isEmpty() || !ref.garbage.isEmpty() || !ref.dropped.isEmpty() || ref.buffered)
            continue;
        ++used;
        stream += v.bytes;
        expectedFrames += ref.frames;
        if (used % 3 == 0) {
            const QByteArray &junk = garbages[g++ % 3];
            stream += junk;
            expectedGarbage += junk;
        }
    }
    QVERIFY(used >= 190);
    for (const int chunk : {1, 2, 3, 7, 13, 64, 512, 100000}) {
        const Outcome o = feedEvery(stream, chunk);
        QCOMPARE(o.frames.size(), expectedFrames.size());
        QVERIFY2(o.frames == expectedFrames, qPrintable(QStringLiteral("chunk %1").arg(chunk)));
        QCOMPARE(o.garbage, expectedGarbage);
        QVERIFY(o.dropped.isEmpty());
        QCOMPARE(o.buffered, 0);
    }
}

void TstGt06Framing::garbageOnly() {
    auto s = gt06Protocol().createSession();
    QList<StreamEvent> ev = s->feed(kHttp);
    QCOMPARE(ev.size(), 1);
    QCOMPARE(ev[0].kind, StreamEvent::Garbage);
    QCOMPARE(ev[0].bytes, kHttp);
    QVERIFY(ev[0].reason.contains(QLatin1String("HTTP")));
    QCOMPARE(s->bufferedBytes(), 0);
    ev = s->feed(tlsClientHello());
    QCOMPARE(ev.size(), 1);
    QVERIFY(ev[0].reason.contains(QLatin1String("TLS")));
    QCOMPARE(ev[0].bytes, tlsClientHello());
    // A trailing 0x78 may start a frame: held back, then completed.
    ev = s->feed(QByteArray("abc\x78", 4));
    QCOMPARE(ev.size(), 1);
    QCOMPARE(ev[0].bytes, QByteArray("abc"));
    QCOMPARE(s->bufferedBytes(), 1);
    ev = s->feed(gt06::encodeAck(0x13, 1).mid(1));   // device would not send this, but it is a frame
    QCOMPARE(ev.size(), 1);
    QCOMPARE(ev[0].kind, StreamEvent::Frame);
}

void TstGt06Framing::falseStartBeforeFrame() {
    // Garbage ending in 78 (or containing 79 79 with a wild length) right before a frame.
    const QByteArray login = hex("78780d01012345678901234500018cdd0d0a");
    for (const QByteArray &junk : {hex("78"), hex("7979ff00"), hex("787805"), hex("797900")}) {
        const QByteArray stream = junk + login + login;
        for (const Outcome &o : {feedWhole(stream), feedBytewise(stream)}) {
            QVERIFY2((o.frames == QList<QByteArray>{login, login}), qPrintable(describe(o)));
            QCOMPARE(o.buffered, 0);
        }
    }
}

void TstGt06Framing::lyingLengths() {
    // Length byte too small (real device, CRC over the actual bytes): cut at 0D 0A.
    const QByteArray small = hex("787808134606020002044dc5050d0a");
    // Length byte too large, valid CRC: cut at the CR LF without waiting for more bytes.
    QByteArray big = gt06::encodeHeartbeat(5, 4, 3, false);
    big[2] = char(0x30);
    const quint16 c = crc16X25(big.constData() + 2, big.size() - 6);
    big[big.size() - 4] = char(c >> 8);
    big[big.size() - 3] = char(c & 0xFF);
    for (const QByteArray &f : {small, big}) {
        auto s = gt06Protocol().createSession();
        const QList<StreamEvent> ev = s->feed(f);
        QCOMPARE(ev.size(), 1);
        QCOMPARE(ev[0].kind, StreamEvent::Frame);
        QCOMPARE(ev[0].frame.bytes, f);
        QVERIFY(!ev[0].frame.ok());
        QVERIFY(ev[0].frame.warnings.join(QLatin1Char('|')).contains(QLatin1String("length mismatch")));
        QCOMPARE(ev[0].frame.replies.size(), 1);   // still acked: the CRC is right
        QCOMPARE(s->bufferedBytes(), 0);
    }
    // 0D 0A inside a frame (Traccar 0x9B vector): the length wins.
    const QByteArray inner = hex("797900109b0344373532304136320d0a000f87f00d0a");
    QCOMPARE(feedBytewise(inner).frames, QList<QByteArray>{inner});
    // Length and CRC both wrong and no Topin form: not a frame, resynchronised as garbage.
    QByteArray junk = hex("7878201299999999999999990d0a");
    const QByteArray login = hex("78780d01012345678901234500018cdd0d0a");
    const Outcome o = feedWhole(junk + login);
    QCOMPARE(o.frames, QList<QByteArray>{login});
    QCOMPARE(o.garbage, junk);
}

void TstGt06Framing::oversizedLength() {
    const QByteArray login = hex("78780d01012345678901234500018cdd0d0a");
    QByteArray stream = hex("7979fff0") + QByteArray(40, 'x') + login;
    for (const Outcome &o : {feedWhole(stream), feedBytewise(stream)}) {
        QCOMPARE(o.dropped.size(), 1);
        QCOMPARE(o.dropped[0], hex("7979fff0"));
        QCOMPARE(o.frames, QList<QByteArray>{login});
        QCOMPARE(o.garbage, QByteArray(40, 'x'));
    }
    auto s = gt06Protocol().createSession();
    const QList<StreamEvent> ev = s->feed(hex("7979fff012"));
    QCOMPARE(ev.size(), 2);   // the header + length dropped, the type byte is garbage
    QCOMPARE(ev[0].kind, StreamEvent::Dropped);
    QVERIFY(ev[0].reason.contains(QLatin1String("exceeds")));
}

void TstGt06Framing::bufferBound() {
    SessionOptions o;
    o.maxBufferedBytes = 100;
    // A frame start whose end never comes: dropped at the bound, then resynchronised.
    const QByteArray login = hex("78780d01012345678901234500018cdd0d0a");
    const QByteArray stream = hex("78783012") + QByteArray(300, '\0') + login;
    for (const Outcome &out : {feedChunks(stream, {}, o), feedChunks(stream, {1, 50, 99, 100, 101, 250}, o)}) {
        QCOMPARE(out.dropped.size(), 1);
        QCOMPARE(out.dropped[0].size(), 100);
        QCOMPARE(out.frames, QList<QByteArray>{login});
        QCOMPARE(out.buffered, 0);
    }
    auto s = gt06Protocol().createSession(o);
    int maxSeen = 0;
    for (int i = 0; i < stream.size(); ++i) {
        s->feed(stream.mid(i, 1));
        maxSeen = std::max(maxSeen, s->bufferedBytes());
    }
    QVERIFY(maxSeen < 100);
    // The default bound (64 KiB) holds too.
    auto d = gt06Protocol().createSession();
    d->feed(hex("78783012"));
    for (int i = 0; i < 100; ++i) {
        d->feed(QByteArray(1000, 'a'));
        QVERIFY(d->bufferedBytes() < 64 * 1024);
    }
}

void TstGt06Framing::strictChecksum() {
    QByteArray bad = gt06::encodeLogin(QStringLiteral("123456789012345"), 1);
    bad[bad.size() - 3] = char(bad[bad.size() - 3] ^ 1);
    SessionOptions strict;
    strict.strictChecksum = true;
    auto s = gt06Protocol().createSession(strict);
    QList<StreamEvent> ev = s->feed(bad);
    QCOMPARE(ev.size(), 1);
    QCOMPARE(ev[0].kind, StreamEvent::Dropped);
    QCOMPARE(ev[0].bytes, bad);
    QVERIFY(ev[0].reason.contains(QLatin1String("CRC")));
    // Lenient (default): the frame is kept with its warning and acked.
    auto l = gt06Protocol().createSession();
    ev = l->feed(bad);
    QCOMPARE(ev.size(), 1);
    QCOMPARE(ev[0].kind, StreamEvent::Frame);
    QVERIFY(!ev[0].frame.ok());
    QCOMPARE(ev[0].frame.message.deviceId, QStringLiteral("123456789012345"));
    // setOptions mid-stream switches to strict.
    l->setOptions(strict);
    ev = l->feed(bad);
    QCOMPARE(ev[0].kind, StreamEvent::Dropped);
}

void TstGt06Framing::topinConnection() {
    // A ZX303 connection: login, status, Wi-Fi, GPS, fed in odd chunks.
    Position p;
    p.time = QDateTime(QDate(2017, 9, 28), QTime(11, 27, 41), QTimeZone::UTC);
    p.latitude = 51.4469;
    p.longitude = 5.521723;
    p.valid = true;
    p.satellites = 9;
    Position w;
    w.time = p.time;
    w.wifi << WifiAccessPoint{QStringLiteral("ac:9e:17:b3:08:08"), -81};
    w.cells << CellTower{204, 4, 54138, 31293, 70};
    const QByteArray stream = gt06::encodeTopinLogin(QStringLiteral("359339075005244")) + gt06::encodeTopinHeartbeat(90)
                              + gt06::encodeTopinWifi(w) + gt06::encodeTopinGps(p) + hex("787801080d0a");
    for (const int chunk : {1, 5, 1000}) {
        const Outcome o = feedEvery(stream, chunk);
        QCOMPARE(o.frames.size(), 5);
        QVERIFY(o.garbage.isEmpty());
    }
    auto s = gt06Protocol().createSession();
    const QList<StreamEvent> ev = s->feed(stream);
    QCOMPARE(ev.size(), 5);
    for (const StreamEvent &e : ev)
        QCOMPARE(e.frame.protocol, QStringLiteral("topin"));
    QCOMPARE(ev[0].frame.replies.toList(), QList<QByteArray>{hex("787801010d0a")});
    QCOMPARE(ev[1].frame.replies.toList(), QList<QByteArray>{hex("787801130d0a")});
    QCOMPARE(ev[2].frame.message.positions.first().wifi.size(), 1);
    QCOMPARE(ev[3].frame.message.positions.first().satellites, std::optional<int>(9));
    // After a Topin login, frames without a valid CRC are read as Topin.
    const QList<StreamEvent> more = s->feed(hex("787801560d0a") + hex("78780a1344060400020001ffff0d0a"));
    QCOMPARE(more.size(), 2);
    QCOMPARE(more[1].frame.protocol, QStringLiteral("topin"));
    // A standard connection is not switched by one Topin-looking frame.
    auto plain = gt06Protocol().createSession();
    QByteArray badCrc = gt06::encodeHeartbeat(3, 4, 4, false);
    badCrc[badCrc.size() - 3] = char(badCrc[badCrc.size() - 3] ^ 0x40);
    const QList<StreamEvent> mixed = plain->feed(hex("787801080d0a") + badCrc);
    QCOMPARE(mixed.size(), 2);
    QCOMPARE(mixed[0].frame.protocol, QStringLiteral("topin"));
    QCOMPARE(mixed[1].frame.protocol, QStringLiteral("gt06"));
    QCOMPARE(mixed[1].frame.replies.toList(), QList<QByteArray>{gt06::encodeAck(0x13, 3)});
}

void TstGt06Framing::idleSessionHoldsNothing() {
    auto s = gt06Protocol().createSession();
    s->feed(gt06::encodeHeartbeat(1, 5, 4, false));
    QCOMPARE(s->bufferedBytes(), 0);
    s->feed(hex("7878"));
    QCOMPARE(s->bufferedBytes(), 2);
}

QTEST_GUILESS_MAIN(TstGt06Framing)
#include "tst_gt06_framing.moc"
