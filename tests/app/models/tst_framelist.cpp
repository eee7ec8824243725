// The inspector's frame list model: batched inserts, bounded rows, filters, reply links.
#include "models/framelistmodel.h"

#include <QSignalSpy>
#include <QtTest>

using td::FrameListModel;
using td::FrameRow;

static FrameRow row(qint64 id, const QString &device, const QString &protocol, int type, bool in,
                    const QString &summary = {}, qint64 replyTo = 0, QStringList warnings = {}) {
    FrameRow r;
    r.id = id;
    r.time = QDateTime::currentDateTimeUtc();
    r.deviceKey = device;
    r.protocol = protocol;
    r.type = type;
    r.typeName = QStringLiteral("T%1").arg(type);
    r.direction = in ? td::proto::Direction::FromDevice : td::proto::Direction::ToDevice;
    r.summary = summary;
    r.replyTo = replyTo;
    r.warnings = warnings;
    r.peer = QStringLiteral("127.0.0.1:4000");
    r.bytes = QByteArray::fromHex("787805120099abec0d0a");
    return r;
}

class TestFrameList : public QObject {
    Q_OBJECT
private slots:
    void olderFramesShowTheirDay();
    void batchesInserts() {
        FrameListModel m;
        m.setBatchInterval(50);
        QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
        for (int i = 1; i <= 1000; ++i)
            m.appendFrames({row(i, QStringLiteral("A"), QStringLiteral("gt06"), 0x12, true)});
        QCOMPARE(m.rowCount(), 0);           // nothing until the batch is flushed
        QCOMPARE(m.pendingCount(), 1000);
        QTRY_COMPARE(m.rowCount(), 1000);
        QCOMPARE(inserted.count(), 1);       // one insertion for the whole burst
    }
    void boundsRows() {
        FrameListModel m;
        m.setMaxRows(100);
        QList<FrameRow> rows;
        for (int i = 1; i <= 250; ++i)
            rows << row(i, QStringLiteral("A"), QStringLiteral("gt06"), 0x12, true);
        m.appendFrames(rows.mid(0, 80));
        m.flush();
        m.appendFrames(rows.mid(80));
        m.flush();
        QCOMPARE(m.rowCount(), 100);
        QCOMPARE(m.rowAt(0).id, 151);        // the oldest were dropped
        QCOMPARE(m.rowAt(99).id, 250);
        QCOMPARE(m.rowOfId(150), -1);
        QCOMPARE(m.rowOfId(151), 0);
        QCOMPARE(m.rowOfId(250), 99);
        m.setMaxRows(10);
        QCOMPARE(m.rowCount(), 10);
        QCOMPARE(m.rowOfId(241), 0);
    }
    void filters() {
        FrameListModel m;
        m.appendFrames({row(1, QStringLiteral("cat"), QStringLiteral("gt06"), 0x01, true, QStringLiteral("IMEI 864717003283581")),
                        row(2, QStringLiteral("cat"), QStringLiteral("gt06"), 0x01, false, QStringLiteral("login ack"), 1),
                        row(3, QStringLiteral("van"), QStringLiteral("jt808"), 0x0200, true, QStringLiteral("52.1°N 11.5°E")),
                        row(4, QString(), QStringLiteral("gt06"), 0x22, true, QStringLiteral("bad"), 0, {QStringLiteral("bad CRC")})});
        m.flush();
        td::FrameFilterProxy f;
        f.setSourceModel(&m);
        QCOMPARE(f.rowCount(), 4);
        f.setDeviceFilter(QStringLiteral("cat"));
        QCOMPARE(f.rowCount(), 2);
        f.setDirectionFilter(1);
        QCOMPARE(f.rowCount(), 1);
        QCOMPARE(f.data(f.index(0, 0), FrameListModel::IdRole).toLongLong(), 2);
        f.setDeviceFilter({});
        f.setDirectionFilter(-1);
        f.setProtocolFilter(QStringLiteral("jt808"));
        QCOMPARE(f.rowCount(), 1);
        f.setProtocolFilter({});
        f.setTypeFilter(0x01);
        QCOMPARE(f.rowCount(), 2);
        f.setTypeFilter(-1);
        f.setTextFilter(QStringLiteral("8647170"));
        QCOMPARE(f.rowCount(), 1);
        f.setTextFilter(QStringLiteral("99 ab ec"));  // hex of the bytes
        QCOMPARE(f.rowCount(), 4);
        f.setTextFilter({});
        f.setWarningsOnly(true);
        QCOMPARE(f.rowCount(), 1);
        QVERIFY(f.data(f.index(0, FrameListModel::Summary)).toString().contains(QLatin1String("bad CRC")));
    }
    void replyLinks() {
        FrameListModel m;
        m.appendFrames({row(10, QStringLiteral("cat"), QStringLiteral("gt06"), 0x01, true),
                        row(11, QStringLiteral("cat"), QStringLiteral("gt06"), 0x01, false, {}, 10),
                        row(12, QStringLiteral("cat"), QStringLiteral("gt06"), 0x13, true)});
        m.flush();
        QCOMPARE(m.repliesOf(10), QList<qint64>{11});
        QVERIFY(m.repliesOf(12).isEmpty());
        QCOMPARE(m.data(m.index(1, 0), FrameListModel::ReplyToRole).toLongLong(), 10);
    }
};

// Frames loaded from history show their day (rows of a week looked alike); today's the time
// to the millisecond.
void TestFrameList::olderFramesShowTheirDay() {
    FrameListModel m;
    FrameRow today = row(1, QStringLiteral("A"), QStringLiteral("gt06"), 0x22, true);
    FrameRow older = row(2, QStringLiteral("A"), QStringLiteral("gt06"), 0x22, true);
    older.time = QDateTime(QDate::currentDate().addDays(-3), QTime(14, 5, 6)).toUTC();
    m.appendFrames({older, today});
    m.flush();
    QCOMPARE(m.rowCount(), 2);
    const QString o = m.index(0, FrameListModel::Time).data().toString();
    const QString t = m.index(1, FrameListModel::Time).data().toString();
    QCOMPARE(o, QDate::currentDate().addDays(-3).toString(QStringLiteral("dd.MM.")) + QStringLiteral(" 14:05:06"));
    QCOMPARE(t, today.time.toLocalTime().toString(QStringLiteral("HH:mm:ss.zzz")));
    // Type ids: a byte for GT06, a word for JT/T 808 (it showed "0x200"), none for no type.
    FrameRow j = row(3, QStringLiteral("B"), QStringLiteral("jt808"), 0x0200, true);
    FrameRow none = row(4, QStringLiteral("B"), QStringLiteral("x"), -1, true);
    none.typeName = QStringLiteral("Not a tracker frame");
    m.appendFrames({j, none});
    m.flush();
    QCOMPARE(m.index(1, FrameListModel::Type).data().toString(), QStringLiteral("T34 (0x22)"));
    QCOMPARE(m.index(2, FrameListModel::Type).data().toString(), QStringLiteral("T512 (0x0200)"));
    QCOMPARE(m.index(3, FrameListModel::Type).data().toString(), QStringLiteral("Not a tracker frame"));
}

QTEST_GUILESS_MAIN(TestFrameList)
#include "tst_framelist.moc"
