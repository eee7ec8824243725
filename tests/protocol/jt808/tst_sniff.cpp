// "One port, any protocol": td::proto::sniffProtocol picks GT06 for 78 78 / 79 79, JT/T 808
// for 7E (and the e-lock "(ID," sentences), asks for more bytes while undecided, and rejects
// HTTP/TLS/SSH garbage. Checked with every vector of both vector files, and every prefix.
#include "jt808_vectors.h"

#include "trackerdesk/protocol/jt808.h"
#include "trackerdesk/protocol/protocol.h"

#include <QTest>

using namespace td::proto;

namespace {

QByteArray hx(const char *s) { return QByteArray::fromHex(QByteArray(s)); }

struct Sniffed {
    const Protocol *protocol;
    bool needMore;
};

Sniffed sniffOf(const QByteArray &head) {
    bool more = true;
    const Protocol *p = sniffProtocol(head, &more);
    return {p, more};
}

} // namespace

class TestSniff : public QObject {
    Q_OBJECT

private slots:
    void registry();
    void vectors_data();
    void vectors();
    void tooShort_data();
    void tooShort();
    void garbage_data();
    void garbage();
    void sniffThenDecode();
};

void TestSniff::registry() {
    QVERIFY(protocolById(QStringLiteral("gt06")));
    QVERIFY(protocolById(QStringLiteral("jt808")));
    QCOMPARE(protocolById(QStringLiteral("JT808")), protocolById(QStringLiteral("jt808")));
    QVERIFY(!protocolById(QStringLiteral("nmea")));
    QStringList ids;
    for (const Protocol *p : protocols())
        ids << p->id();
    QVERIFY(ids.contains(QStringLiteral("gt06")));
    QVERIFY(ids.contains(QStringLiteral("jt808")));
    QCOMPARE(ids.removeDuplicates(), 0);
}

void TestSniff::vectors_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("expected");
    QString err;
    const QList<Jt808Vector> jt = loadJt808Vectors(&err);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    int n = 0;
    for (const Jt808Vector &v : jt) {
        if (v.isEscapeOnly())   // byte strings of the escaping tests, not messages
            continue;
        QTest::newRow(qPrintable(QStringLiteral("jt808 %1").arg(v.id()))) << v.bytes << QStringLiteral("jt808");
        ++n;
    }
    QCOMPARE(n, 131);
    const QList<Jt808Vector> gt = loadTsv(QStringLiteral(TD_TEST_DATA "/gt06_vectors.tsv"), &err);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QCOMPARE(gt.size(), 200);
    for (int i = 0; i < gt.size(); ++i)
        QTest::newRow(qPrintable(QStringLiteral("gt06 row %1").arg(i + 2))) << gt[i].bytes << QStringLiteral("gt06");
}

void TestSniff::vectors() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, expected);
    QVERIFY(!bytes.isEmpty());
    const Sniffed s = sniffOf(bytes);
    QVERIFY2(s.protocol, qPrintable(bytes.left(8).toHex()));
    QCOMPARE(s.protocol->id(), expected);
    QCOMPARE(s.needMore, false);
    // Every prefix: undecided, or the right protocol; never the other one, never a wrong "no".
    for (int k = 0; k <= bytes.size(); ++k) {
        const Sniffed p = sniffOf(bytes.left(k));
        if (p.protocol)
            QCOMPARE(p.protocol->id(), expected);
        else
            QVERIFY2(p.needMore, qPrintable(QStringLiteral("prefix of %1 bytes rejected").arg(k)));
    }
    // Decided within the first few bytes (the header), not only once the frame is complete.
    QVERIFY(sniffOf(bytes.left(16)).protocol);
}

void TestSniff::tooShort_data() {
    QTest::addColumn<QByteArray>("head");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("78") << hx("78");
    QTest::newRow("79") << hx("79");
    QTest::newRow("7e") << hx("7e");
    QTest::newRow("7e 02") << hx("7e02");
    QTest::newRow("7e 7e") << hx("7e7e");
    QTest::newRow("7e 0200 7d") << hx("7e02007d");
    QTest::newRow("(") << QByteArray("(");
    QTest::newRow("(7941") << QByteArray("(7941");
}

void TestSniff::tooShort() {
    QFETCH(QByteArray, head);
    const Sniffed s = sniffOf(head);
    QVERIFY(!s.protocol);
    QVERIFY(s.needMore);
}

void TestSniff::garbage_data() {
    QTest::addColumn<QByteArray>("head");
    QTest::newRow("HTTP GET") << QByteArray("GET / HTTP/1.1\r\nHost: example\r\n\r\n");
    QTest::newRow("HTTP POST") << QByteArray("POST /api HTTP/1.0\r\n");
    QTest::newRow("TLS ClientHello") << hx("16030100f8010000f40303");
    QTest::newRow("TLS 1.3 record") << hx("1603030200");
    QTest::newRow("SSH banner") << QByteArray("SSH-2.0-OpenSSH_9.6\r\n");
    QTest::newRow("CRLF") << QByteArray("\r\n");
    QTest::newRow("zeros") << QByteArray(16, '\0');
    QTest::newRow("78 79") << hx("78790d01");
    QTest::newRow("7e with reserved encryption") << hx("7e02001c01");   // bits 10-12 = 7
    QTest::newRow("paren text") << QByteArray("(GET /)");
    QTest::newRow("paren short id") << QByteArray("(12,BASE)");
    QTest::newRow("7d start") << hx("7d01");
}

void TestSniff::garbage() {
    QFETCH(QByteArray, head);
    const Sniffed s = sniffOf(head);
    QVERIFY2(!s.protocol, qPrintable(s.protocol ? s.protocol->id() : QString()));
    QVERIFY(!s.needMore);
}

void TestSniff::sniffThenDecode() {
    // What the server does on a shared port: sniff the first bytes, open that protocol's
    // session, feed the connection. Every JT/T 808 vector comes out as a frame.
    QString err;
    const QList<Jt808Vector> jt = loadJt808Vectors(&err);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    for (const Jt808Vector &v : jt) {
        if (v.isEscapeOnly())
            continue;
        QByteArray wire = v.bytes;
        if (wire[0] == 0x7E) {   // some rows are quoted post-framing: send what a device would
            const QByteArray b = protocolById(QStringLiteral("jt808"))->decodeFrame(wire).bytes;
            wire = QByteArray(1, 0x7E) + jt808::escape(b.mid(1, b.size() - 2)) + QByteArray(1, 0x7E);
        }
        const Protocol *p = sniffProtocol(wire.left(16), nullptr);
        QVERIFY2(p, qPrintable(v.id()));
        auto s = p->createSession();
        const QList<StreamEvent> ev = s->feed(wire);
        QCOMPARE(ev.size(), 1);
        QCOMPARE(ev[0].kind, StreamEvent::Frame);
        QCOMPARE(ev[0].frame.protocol, QStringLiteral("jt808"));
    }
}

QTEST_GUILESS_MAIN(TestSniff)
#include "tst_sniff.moc"
