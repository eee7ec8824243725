// The headless log's fix lines (appendFixText): the text a user reads and greps, and the
// same digits printf would write, without printf (it was a tenth of the network thread's
// time under load).
#include "headless/headless.h"

#include "trackerdesk/protocol/frame.h"

#include <QRandomGenerator>
#include <QTimeZone>
#include <QtTest>

#include <cstdio>

using namespace td;

namespace {
proto::Position fix(qint64 secs, double lat, double lon) {
    proto::Position p;
    p.time = QDateTime::fromSecsSinceEpoch(secs, QTimeZone::UTC);
    p.latitude = lat;
    p.longitude = lon;
    p.valid = true;
    return p;
}
QByteArray text(const proto::Position &p) {
    QByteArray out;
    appendFixText(out, p);
    return out;
}
} // namespace

class TestFixLine : public QObject {
    Q_OBJECT
private slots:
    void lines_data();
    void lines();
    void sameDigitsAsPrintf();
};

void TestFixLine::lines_data() {
    QTest::addColumn<proto::Position>("position");
    QTest::addColumn<QByteArray>("expected");
    const qint64 t = 1795376720;  // 2026-11-22T19:45:20Z
    proto::Position p = fix(t, 52.0907, 5.1214);
    p.speedKmh = 3.0;
    p.course = 90;
    p.satellites = 7;
    QTest::newRow("gps") << p << QByteArray("2026-11-22T19:45:20Z 52.090700,5.121400 3.0 km/h 90\xc2\xb0 sats 7 gps");
    p = fix(t, -33.86882, -151.20929);
    p.speedKmh = 47.04;
    p.course = 359.6;
    QTest::newRow("south west, rounding") << p << QByteArray("2026-11-22T19:45:20Z -33.868820,-151.209290 47.0 km/h 360\xc2\xb0 gps");
    p = fix(t, 0.0000004, -0.0000006);
    p.valid = false;
    QTest::newRow("near zero, not valid") << p << QByteArray("2026-11-22T19:45:20Z 0.000000,-0.000001 gps (not valid)");
    p = fix(0, 0, 0);
    p.hasCoordinates = false;
    p.source = proto::PositionSource::Lbs;
    p.cells.resize(3);
    QTest::newRow("cells only") << p << QByteArray("1970-01-01T00:00:00Z (no coordinates: 3 cells, 0 Wi-Fi) lbs");
    p = fix(t, 1, 2);
    p.time = QDateTime();
    p.source = proto::PositionSource::Sms;
    p.speedKmh = 1e300;   // nonsense from a broken frame: printed, bounded
    // (the first 31 characters of printf's exact digits of 1e300)
    QTest::newRow("no time, huge speed") << p << QByteArray("1970-01-01T00:00:00Z 1.000000,2.000000 1000000000000000052504760255204 km/h sms");
}

void TestFixLine::lines() {
    QFETCH(proto::Position, position);
    QFETCH(QByteArray, expected);
    QByteArray out("prefix ");
    appendFixText(out, position);
    QCOMPARE(out, "prefix " + expected);
}

void TestFixLine::sameDigitsAsPrintf() {
    QRandomGenerator rng(8);
    char buf[64];
    for (int i = 0; i < 100000; ++i) {
        const double lat = rng.generateDouble() * 180 - 90, lon = rng.generateDouble() * 360 - 180;
        const double speed = rng.generateDouble() * 300, course = rng.generateDouble() * 360;
        proto::Position p = fix(qint64(rng.bounded(4000000000u)), lat, lon);
        p.speedKmh = speed;
        p.course = course;
        const QByteArray got = text(p);
        std::snprintf(buf, sizeof buf, " %.6f,%.6f %.1f km/h %.0f", lat, lon, speed, course);
        const QByteArray want = p.time.toString(QStringLiteral("yyyy-MM-ddTHH:mm:ssZ")).toLatin1() + buf + "\xc2\xb0 gps";
        if (got != want)
            QFAIL(qPrintable(QStringLiteral("%1 != %2").arg(QString::fromUtf8(got), QString::fromUtf8(want))));
    }
}

QTEST_GUILESS_MAIN(TestFixLine)
#include "tst_fixline.moc"
