// Regression: on a Topin (ZX303/ZX612) connection a 0x10 GPS frame whose coordinates
// contain the bytes 0D 0A must be cut by its fixed size, not at that inner CR LF
// (found by the server tests: the fix was lost and the device would have been acked).
#include "trackerdesk/protocol/gt06.h"

#include <QTimeZone>
#include <QtTest>

using namespace td::proto;

class TestTopinFraming : public QObject {
    Q_OBJECT
private slots:
    void gpsFrameWithInnerCrLf_data() {
        QTest::addColumn<int>("chunk");
        for (int c : {1, 3, 7, 1000})
            QTest::newRow(qPrintable(QStringLiteral("chunk %1").arg(c))) << c;
    }
    void gpsFrameWithInnerCrLf() {
        QFETCH(int, chunk);
        Position p;
        p.time = QDateTime(QDate(2026, 11, 22), QTime(10, 0, 0), QTimeZone::UTC);
        p.latitude = 48.85;
        p.longitude = 218759168.0 / 1800000.0;  // raw 0x0D0A0000: "0D 0A" inside the frame
        p.valid = true;
        p.satellites = 7;
        p.speedKmh = 3;
        p.course = 90;
        const QByteArray gps = gt06::encodeTopinGps(p);
        QVERIFY(gps.indexOf("\r\n") < gps.size() - 2);  // the trap is really there
        const QByteArray stream = gt06::encodeTopinLogin(QStringLiteral("359339075038887")) + gps + gps;
        auto session = gt06Protocol().createSession();
        QList<StreamEvent> events;
        for (int i = 0; i < stream.size(); i += chunk)
            events += session->feed(stream.mid(i, chunk));
        QCOMPARE(events.size(), 3);
        for (int i = 1; i < 3; ++i) {
            const StreamEvent &e = events[i];
            QCOMPARE(e.kind, StreamEvent::Frame);
            QVERIFY2(e.frame.warnings.isEmpty(), qPrintable(e.frame.warnings.join(QLatin1Char(';'))));
            QCOMPARE(e.frame.bytes, gps);
            QCOMPARE(e.frame.message.positions.size(), 1);
            QVERIFY(qAbs(e.frame.message.positions[0].longitude - p.longitude) < 1e-6);
            QCOMPARE(e.frame.replies.size(), 1);
        }
    }
};

QTEST_GUILESS_MAIN(TestTopinFraming)
#include "tst_topin_framing.moc"
