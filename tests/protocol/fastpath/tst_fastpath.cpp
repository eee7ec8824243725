// The server's fast decode path (SessionOptions::annotate = false) must give exactly what
// the annotated decode gives - type, name, serial, summary, warnings, typed message and
// reply bytes - for every real device vector, with an empty field tree. Checked through
// Protocol::decodeFrame and through a stream session (createSession()->feed()). The server
// also turns the summary off (summarize = false): Protocol::summary() must then make the
// same text afterwards.
#include "trackerdesk/protocol/checksum.h"
#include "trackerdesk/protocol/gt06.h"
#include "trackerdesk/protocol/protocol.h"

#include <QFile>
#include <QTimeZone>
#include <QtTest>

#include <array>

using namespace td::proto;

namespace {

QString describe(const Position &p) {
    auto opt = [](const auto &o) { return o ? QString::number(*o, 'g', 17) : QStringLiteral("-"); };
    QString s = QStringLiteral("%1|%2|%3,%4|alt %5|spd %6|crs %7|sat %8|valid %9|src %10|acc %11|coords %12")
                    .arg(p.time.toString(Qt::ISODateWithMs)).arg(p.timeValid)
                    .arg(p.latitude, 0, 'g', 17).arg(p.longitude, 0, 'g', 17)
                    .arg(opt(p.altitude), opt(p.speedKmh), opt(p.course))
                    .arg(p.satellites ? QString::number(*p.satellites) : QStringLiteral("-"))
                    .arg(p.valid).arg(int(p.source)).arg(opt(p.accuracy)).arg(p.hasCoordinates);
    for (const CellTower &c : p.cells)
        s += QStringLiteral("|cell %1/%2/%3/%4/%5").arg(c.mcc).arg(c.mnc).arg(c.lac).arg(c.cellId).arg(c.signal);
    for (const WifiAccessPoint &w : p.wifi)
        s += QStringLiteral("|wifi %1 %2").arg(w.bssid).arg(w.rssi);
    return s;
}

QString describe(const std::optional<Status> &st) {
    if (!st)
        return QStringLiteral("no status");
    auto b = [](const std::optional<bool> &o) { return o ? QString::number(*o) : QStringLiteral("-"); };
    auto i = [](const std::optional<int> &o) { return o ? QString::number(*o) : QStringLiteral("-"); };
    return QStringLiteral("bat %1 %2 gsm %3 chg %4 acc %5 armed %6 gps %7 relay %8")
        .arg(i(st->batteryPercent), st->batteryVolts ? QString::number(*st->batteryVolts, 'g', 17) : QStringLiteral("-"),
             i(st->gsmSignal), b(st->charging), b(st->acc), b(st->armed), b(st->gpsTracking), b(st->relayCut));
}

// Everything but the field tree, as comparable text.
// The summary as a frame list gets it: Protocol::summary() (the decoder's text, or the text
// made afterwards when the decode was told not to).
QStringList describe(const DecodedFrame &f, const Protocol &protocol) {
    const Message &m = f.message;
    QStringList out{
        QStringLiteral("protocol %1 type %2 (%3) serial %4").arg(f.protocol).arg(f.type).arg(f.typeName).arg(f.serial),
        QStringLiteral("summary ") + protocol.summary(f),
        QStringLiteral("bytes ") + QString::fromLatin1(f.bytes.toHex()) + QStringLiteral(" wire ") + QString::fromLatin1(f.wire.toHex()),
        QStringLiteral("warnings ") + f.warnings.join(QStringLiteral(" / ")),
        QStringLiteral("kind %1 device %2 model %3 tz %4 auth %5")
            .arg(int(m.kind)).arg(m.deviceId, m.model, m.timeZoneMinutes ? QString::number(*m.timeZoneMinutes) : QStringLiteral("-"), m.authCode),
        QStringLiteral("text ") + m.text,
        QStringLiteral("alarms ") + m.alarms.join(QLatin1Char(',')),
        QStringLiteral("status ") + describe(m.status),
    };
    for (const Position &p : m.positions)
        out << QStringLiteral("position ") + describe(p);
    for (const QByteArray &r : f.replies)
        out << QStringLiteral("reply ") + QString::fromLatin1(r.toHex());
    return out;
}

QList<QByteArray> vectors(const QString &file) {
    QList<QByteArray> out;
    QFile f(QStringLiteral(TD_TEST_DATA "/") + file);
    if (!f.open(QIODevice::ReadOnly))
        return out;
    const QList<QByteArray> lines = f.readAll().split('\n');
    const int col = int(lines.value(0).trimmed().split('\t').indexOf("hex"));
    for (int i = 1; col >= 0 && i < lines.size(); ++i) {
        const QList<QByteArray> cells = lines[i].split('\t');
        if (cells.size() > col && !cells[col].trimmed().isEmpty())
            out << QByteArray::fromHex(cells[col].trimmed());
    }
    return out;
}

// A 0x22 GPS+LBS frame from the encoder; setDate() puts raw date bytes in and redoes the CRC.
QByteArray gpsLbsFrame() {
    Position p;
    p.time = QDateTime(QDate(2020, 1, 1), QTime(0, 0), QTimeZone::UTC);
    p.latitude = 48.85;
    p.longitude = 2.35;
    p.valid = true;
    return gt06::encodeGpsLbs(7, p);
}

void setDate(QByteArray &frame, const std::array<int, 6> &raw) {
    for (int i = 0; i < 6; ++i)
        frame[4 + i] = char(raw[i]);
    const quint16 crc = crc16X25(frame.constData() + 2, frame.size() - 6);
    frame[frame.size() - 4] = char(crc >> 8);
    frame[frame.size() - 3] = char(crc & 0xFF);
}

QList<DecodedFrame> viaSession(const Protocol &p, const QByteArray &bytes, const SessionOptions &o) {
    QList<DecodedFrame> out;
    for (const StreamEvent &e : p.createSession(o)->feed(bytes))
        if (e.kind == StreamEvent::Frame)
            out << e.frame;
    return out;
}

} // namespace

class TestFastPath : public QObject {
    Q_OBJECT
private slots:
    void sameAsAnnotated_data() { vectorRows(); }
    void sameAsAnnotated();
    void sameAsAnnotatedInSession_data() { vectorRows(); }
    void sameAsAnnotatedInSession();
    void badChecksumStillWarns();
    void repliesKeepEachReply();
    void deviceDates_data();
    void deviceDates();
    void everyDeviceDay();

private:
    void vectorRows();
};

void TestFastPath::vectorRows() {
    QTest::addColumn<QString>("protocol");
    QTest::addColumn<QByteArray>("bytes");
    int rows = 0;
    for (const auto &[file, id] : {std::pair{QStringLiteral("gt06_vectors.tsv"), QStringLiteral("gt06")},
                                   std::pair{QStringLiteral("jt808_vectors.tsv"), QStringLiteral("jt808")}}) {
        const QList<QByteArray> v = vectors(file);
        QVERIFY2(v.size() > 50, qPrintable(file + QStringLiteral(": too few vectors")));
        for (int i = 0; i < v.size(); ++i, ++rows)
            QTest::addRow("%s-%d", qPrintable(id), i + 2) << id << v[i];   // row = line in the file
    }
    QVERIFY(rows > 300);
}

void TestFastPath::sameAsAnnotated() {
    QFETCH(QString, protocol);
    QFETCH(QByteArray, bytes);
    const Protocol *p = protocolById(protocol);
    QVERIFY(p);
    for (const Direction dir : {Direction::FromDevice, Direction::ToDevice}) {
      for (const bool summarize : {true, false}) {
        SessionOptions full, fast;
        full.direction = fast.direction = dir;
        fast.annotate = false;
        fast.summarize = summarize;
        QStringList a, b;
        DecodedFrame annotated, fastFrame;
        // Time replies carry the clock: retry if a second boundary fell between the two decodes.
        for (int attempt = 0; attempt < 3 && (attempt == 0 || a != b); ++attempt) {
            annotated = p->decodeFrame(bytes, full);
            fastFrame = p->decodeFrame(bytes, fast);
            a = describe(annotated, *p);
            b = describe(fastFrame, *p);
            QVERIFY(!annotated.fields.isEmpty());
        }
        QCOMPARE(b, a);
        QVERIFY(fastFrame.fields.isEmpty());
        QCOMPARE(p->summary(annotated), annotated.summary);
        if (summarize)
            QCOMPARE(fastFrame.summary, annotated.summary);
        else if (protocol == QLatin1String("gt06") && fastFrame.ok() && fastFrame.message.kind != MessageKind::Unknown)
            QVERIFY2(fastFrame.summary.isEmpty(), "GT06 skips the summary when told to");
      }
    }
}

void TestFastPath::sameAsAnnotatedInSession() {
    QFETCH(QString, protocol);
    QFETCH(QByteArray, bytes);
    const Protocol *p = protocolById(protocol);
    QVERIFY(p);
    SessionOptions full, fast;
    fast.annotate = false;
    fast.summarize = false;   // as the server decodes
    QList<DecodedFrame> a, b;
    QStringList da, db;
    for (int attempt = 0; attempt < 3 && (attempt == 0 || da != db); ++attempt) {
        a = viaSession(*p, bytes, full);
        b = viaSession(*p, bytes, fast);
        da.clear();
        db.clear();
        for (const DecodedFrame &f : a)
            da << describe(f, *p);
        for (const DecodedFrame &f : b)
            db << describe(f, *p);
    }
    QCOMPARE(b.size(), a.size());
    QCOMPARE(db, da);
    for (const DecodedFrame &f : b)
        QVERIFY(f.fields.isEmpty());
    // A changed option set mid-stream keeps the fast path.
    auto s = p->createSession(fast);
    s->setOptions(fast);
    for (const StreamEvent &e : s->feed(bytes))
        QVERIFY(e.frame.fields.isEmpty());
}

void TestFastPath::badChecksumStillWarns() {
    SessionOptions fast;
    fast.annotate = false;
    // GT06 login with its CRC flipped, JT808 heartbeat with a wrong XOR.
    QByteArray gt06 = QByteArray::fromHex("78780d01012345678901234500018cdd0d0a");
    QByteArray jt = QByteArray::fromHex("7e0002000001234567890100010000007e");
    for (const auto &[id, bytes] : {std::pair{QStringLiteral("gt06"), gt06}, std::pair{QStringLiteral("jt808"), jt}}) {
        QByteArray bad = bytes;
        bad[bad.size() - 3] = char(bad[bad.size() - 3] ^ 0x5A);   // inside the CRC / checksum area
        const DecodedFrame full = protocolById(id)->decodeFrame(bad);
        const DecodedFrame quick = protocolById(id)->decodeFrame(bad, fast);
        QVERIFY2(!full.warnings.isEmpty(), qPrintable(id));
        QCOMPARE(quick.warnings, full.warnings);
        QVERIFY(quick.fields.isEmpty());
    }
}

// DecodedFrame::replies holds the replies back to back in one array: each must still come
// out whole and in order, and the server writes bytes() - all of them - in one go.
void TestFastPath::repliesKeepEachReply() {
    Replies r;
    QVERIFY(r.isEmpty());
    QCOMPARE(r.value(0), QByteArray());
    const QByteArray ack = gt06::encodeAck(0x13, 7);
    r.append(ack);
    QCOMPARE(r.size(), 1);
    QCOMPARE(r.first(), ack);
    QVERIFY(r.first().constData() == ack.constData());   // one reply: shared, not copied
    const QByteArray second = QByteArray::fromHex("7e8001000501234567890100010002000200037e");
    r << second;
    QCOMPARE(r.size(), 2);
    QCOMPARE(r.at(0), ack);
    QCOMPARE(r[1], second);
    QCOMPARE(r.last(), second);
    QCOMPARE(r.bytes(), ack + second);
    QCOMPARE(ack, gt06::encodeAck(0x13, 7));   // appending after it left the caller's copy alone
    QList<QByteArray> seen;
    for (const QByteArray &b : r)
        seen << b;
    QCOMPARE(seen, (QList<QByteArray>{ack, second}));
    QCOMPARE(r.toList(), seen);
    QCOMPARE(r.value(2), QByteArray());
    QVERIFY(r == (Replies{ack, second}));
    QVERIFY(r != (Replies{second, ack}));   // same bytes in another order are other replies
    QVERIFY(r != (Replies{ack + second}));  // and one reply of both is not two replies
    r.clear();
    QVERIFY(r.isEmpty());
    QVERIFY(r.bytes().isEmpty());
}

// The decoders compute times without QDate/QDateTime (calendar arithmetic on the hot path):
// every date a device can send (years 2000-2255, any byte values) must give what QDate /
// QTime / QDateTime give, with the time-zone shift, in both decode paths.
void TestFastPath::deviceDates_data() {
    QTest::addColumn<int>("year");
    QTest::addColumn<int>("month");
    QTest::addColumn<int>("day");
    QTest::addColumn<int>("hour");
    QTest::addColumn<int>("minute");
    QTest::addColumn<int>("second");
    QTest::addColumn<int>("tz");   // SessionOptions::timeZoneMinutes
    const struct {
        int y, mo, d, h, mi, s, tz;
    } rows[] = {
        {2000, 1, 1, 0, 0, 0, 0},      {2000, 1, 1, 0, 0, 0, 480},    {2000, 2, 29, 12, 0, 0, 0},
        {2001, 2, 29, 12, 0, 0, 0},    {2100, 2, 29, 0, 0, 0, 0},     {2104, 2, 29, 23, 59, 59, -300},
        {2024, 2, 29, 23, 30, 0, -60}, {2024, 4, 31, 0, 0, 0, 0},     {2024, 12, 31, 23, 59, 59, -720},
        {2255, 12, 31, 23, 59, 59, 0}, {2255, 12, 31, 23, 59, 59, 840}, {2023, 0, 10, 0, 0, 0, 0},
        {2023, 13, 10, 0, 0, 0, 0},    {2023, 6, 0, 0, 0, 0, 0},      {2023, 6, 32, 0, 0, 0, 0},
        {2023, 6, 30, 24, 0, 0, 0},    {2023, 6, 30, 23, 60, 0, 0},   {2023, 6, 30, 23, 59, 60, 0},
        {2023, 3, 26, 1, 30, 0, 60},   {2016, 2, 29, 0, 15, 0, 330},  {2200, 3, 1, 0, 0, 0, 45},
    };
    for (const auto &r : rows)
        QTest::addRow("%04d-%02d-%02d %02d:%02d:%02d tz %d", r.y, r.mo, r.d, r.h, r.mi, r.s, r.tz)
            << r.y << r.mo << r.d << r.h << r.mi << r.s << r.tz;
}

void TestFastPath::deviceDates() {
    QFETCH(int, year);
    QFETCH(int, month);
    QFETCH(int, day);
    QFETCH(int, hour);
    QFETCH(int, minute);
    QFETCH(int, second);
    QFETCH(int, tz);
    QByteArray frame = gpsLbsFrame();
    QVERIFY(frame.size() > 20);
    setDate(frame, {year - 2000, month, day, hour, minute, second});

    const QDate date(year, month, day);
    const bool valid = date.isValid() && QTime::isValid(hour, minute, second);
    const QDateTime expected =
        valid ? QDateTime(date, QTime(hour, minute, second), QTimeZone::UTC).addSecs(-qint64(tz) * 60) : QDateTime();
    for (const bool annotate : {true, false}) {
        SessionOptions o;
        o.annotate = annotate;
        o.timeZoneMinutes = tz;
        const DecodedFrame f = gt06Protocol().decodeFrame(frame, o);
        QCOMPARE(f.message.positions.size(), 1);
        const Position &got = f.message.positions.first();
        QCOMPARE(got.timeValid, valid);
        QCOMPARE(got.time.isValid(), valid);
        if (valid) {
            QCOMPARE(got.time, expected);
            QCOMPARE(got.time.timeSpec(), Qt::UTC);
            QCOMPARE(got.time.toString(Qt::ISODateWithMs), expected.toString(Qt::ISODateWithMs));
            QVERIFY2(f.warnings.isEmpty(), qPrintable(f.warnings.join(QStringLiteral("; "))));
        } else {
            QCOMPARE(f.warnings, QStringList{QStringLiteral("Date/time: out-of-range date/time")});
        }
    }
}

// Every day a device can send (2000-01-01 .. 2255-12-31, the year is one byte), fast path:
// the date arithmetic for that range must agree with QDate on each one.
void TestFastPath::everyDeviceDay() {
    QByteArray frame = gpsLbsFrame();
    SessionOptions o;
    o.annotate = false;
    o.summarize = false;
    int days = 0;
    for (QDate day(2000, 1, 1); day.year() <= 2255; day = day.addDays(1), ++days) {
        setDate(frame, {day.year() - 2000, day.month(), day.day(), 23, 59, 58});
        const DecodedFrame f = gt06Protocol().decodeFrame(frame, o);
        const QDateTime got = f.message.positions.value(0).time;
        const QDateTime expected(day, QTime(23, 59, 58), QTimeZone::UTC);
        if (got != expected)
            QFAIL(qPrintable(QStringLiteral("%1: decoded %2").arg(expected.toString(Qt::ISODate), got.toString(Qt::ISODate))));
    }
    QCOMPARE(days, 93502);
}

QTEST_GUILESS_MAIN(TestFastPath)
#include "tst_fastpath.moc"
