// `trackerdesk export` on a real store, as a user runs it: a database is filled through
// the store's writer path (devices, fixes, raw frames and replies), then the command
// exports it while the store stays open (the server would be running). The results are
// checked with xmllint (GPX 1.1 schema), parsed back, and the pcapng with tshark. Also
// the usage errors, and the ExportRunner the GUI uses, on the same store.
#include "export/exportrunner.h"
#include "store/store.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimeZone>
#include <QXmlStreamReader>
#include <QtTest>

using namespace td;
using namespace td::store;

namespace {

const qint64 T0 = 1714557600000LL;   // 2024-05-01T10:00:00Z
const QString CarImei = QStringLiteral("864717003283581");
const QString JtId = QStringLiteral("013912345678");

proto::Position fix(qint64 ms, double lat, double lon, proto::PositionSource source = proto::PositionSource::Gps,
                    bool valid = true) {
    proto::Position p;
    p.time = QDateTime::fromMSecsSinceEpoch(ms, QTimeZone::UTC);
    p.latitude = lat;
    p.longitude = lon;
    p.valid = valid;
    p.source = source;
    p.speedKmh = 36;
    p.course = 180;
    p.satellites = 8;
    p.altitude = 35;
    return p;
}

QByteArray vectorFrame(const QString &file, int row) {
    QFile f(QStringLiteral(TD_TEST_DATA "/") + file);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QList<QByteArray> header = f.readLine().trimmed().split('\t');
    const qsizetype col = header.indexOf("hex");
    for (int i = 0; !f.atEnd(); ++i) {
        const QList<QByteArray> cells = f.readLine().split('\t');
        if (i == row && col >= 0 && col < cells.size())
            return QByteArray::fromHex(cells[col].trimmed());
    }
    return {};
}

struct Run {
    int code = -1;
    QByteArray out, err;
};

Run run(const QString &program, const QStringList &args) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    p.setProcessEnvironment(env);
    p.start(program, args);
    Run r;
    if (!p.waitForStarted(10000)) {
        r.err = p.errorString().toUtf8();
        return r;
    }
    p.closeWriteChannel();
    if (!p.waitForFinished(120000)) {
        p.kill();
        p.waitForFinished();
        r.err = "timeout";
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QByteArray readFile(const QString &path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

int countElements(const QByteArray &xml, const QString &name, QStringList *texts = nullptr) {
    QXmlStreamReader x(xml);
    int n = 0;
    while (!x.atEnd())
        if (x.readNext() == QXmlStreamReader::StartElement && x.name() == name) {
            ++n;
            if (texts)
                *texts << x.readElementText();
        }
    return x.hasError() ? -1 : n;
}

} // namespace

class TestExportCli : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void gpxAllDevices();
    void gpxOneDeviceAndRange_data();
    void gpxOneDeviceAndRange();
    void allFixesAndSplit();
    void otherFormatsByExtension();
    void csvToStdout();
    void recentWindow();
    void pcapng();
    void usageErrors_data();
    void usageErrors();
    void runnerOnStore();

private:
    Run exportCmd(const QStringList &args) {
        return run(m_exe, QStringList{QStringLiteral("export"), QStringLiteral("--data-dir"), m_data} + args);
    }
    QString out(const QString &name) const { return m_dir.filePath(name); }

    QTemporaryDir m_dir;
    QString m_data, m_exe;
    Store m_store;              // stays open: the export runs beside a live store
    qint64 m_carGps = 0, m_jtGps = 0, m_carLbs = 0;
    int m_carRecent = 0;
};

void TestExportCli::initTestCase() {
    QVERIFY(m_dir.isValid());
    m_exe = QStringLiteral(TD_BINARY_DIR "/trackerdesk");
    QVERIFY2(QFileInfo(m_exe).isExecutable(), qPrintable(m_exe + QStringLiteral(" is not built")));
    m_data = m_dir.filePath(QStringLiteral("data"));
    QVERIFY2(m_store.open(QDir(m_data).filePath(Store::fileName())), qPrintable(m_store.lastError()));

    const QByteArray gtLogin = vectorFrame(QStringLiteral("gt06_vectors.tsv"), 1);
    const QByteArray gtPos = vectorFrame(QStringLiteral("gt06_vectors.tsv"), 3);
    const QByteArray jtPos = vectorFrame(QStringLiteral("jt808_vectors.tsv"), 0);
    QVERIFY(!gtLogin.isEmpty() && !gtPos.isEmpty() && !jtPos.isEmpty());

    auto item = [](const QString &key, qint64 ms, const QString &peer, quint16 port, const QString &protocol,
                   const QByteArray &bytes, const proto::PositionList &positions) {
        WorkItem w;
        w.kind = WorkItem::Inbound;
        w.serverTimeMs = ms;
        w.deviceKey = key;
        w.peerAddress = peer;
        w.peerPort = port;
        w.protocol = protocol;
        w.type = 0x22;
        w.bytes = bytes;
        w.messageKind = positions.isEmpty() ? proto::MessageKind::Login : proto::MessageKind::Position;
        w.positions = positions;
        w.replies = {QByteArray::fromHex("787805220001d9dc0d0a")};
        w.replyTypes = {0x22};
        return w;
    };
    QList<WorkItem> items;
    items << item(CarImei, T0 - 1000, QStringLiteral("203.0.113.7"), 41000, QStringLiteral("gt06"), gtLogin, {});
    // Car: 200 valid GPS fixes every 30 s with a 2 h gap after the first 100, 5 LBS fixes
    // with coordinates and 3 invalid GPS fixes.
    for (int batch = 0; batch < 20; ++batch) {
        proto::PositionList ps;
        for (int k = 0; k < 10; ++k) {
            const int i = batch * 10 + k;
            const qint64 t = T0 + i * 30000LL + (i >= 100 ? 7200000LL : 0);
            ps << fix(t, 52.5 + i * 1e-4, 13.4 + i * 1e-4);
            ++m_carGps;
        }
        if (batch < 5) {
            ps << fix(T0 + batch * 30000LL + 15000, 52.6, 13.5, proto::PositionSource::Lbs, false);
            ++m_carLbs;
        }
        if (batch < 3)
            ps << fix(T0 + batch * 30000LL + 20000, 0, 0, proto::PositionSource::Gps, false);
        items << item(CarImei, ps.last().time.toMSecsSinceEpoch() + 500, QStringLiteral("203.0.113.7"), 41000,
                      QStringLiteral("gt06"), gtPos, ps);
    }
    // The JT/T 808 device over a dual-stack socket (IPv4-mapped address), 50 fixes.
    for (int batch = 0; batch < 5; ++batch) {
        proto::PositionList ps;
        for (int k = 0; k < 10; ++k) {
            ps << fix(T0 + (batch * 10 + k) * 60000LL, -33.9 - k * 1e-4, 151.2 + batch * 1e-3);
            ++m_jtGps;
        }
        items << item(JtId, ps.last().time.toMSecsSinceEpoch() + 500, QStringLiteral("::ffff:198.51.100.9"), 42000,
                      QStringLiteral("jt808"), jtPos, ps);
    }
    // A few fixes within the last hour, for --from 24h.
    {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        proto::PositionList ps;
        for (int k = 0; k < 4; ++k)
            ps << fix(now - 3600000LL + k * 60000LL, 52.0, 13.0 + k * 1e-3);
        m_carRecent = int(ps.size());
        items << item(CarImei, now - 1000, QStringLiteral("203.0.113.7"), 41001, QStringLiteral("gt06"), gtPos, ps);
    }
    QList<WorkResult> results;
    QVERIFY2(m_store.applyBatch(items, &results), qPrintable(m_store.lastError()));
    auto car = m_store.deviceByImei(CarImei);
    QVERIFY(car);
    car->name = QStringLiteral("Car");
    QVERIFY2(m_store.updateDevice(*car), qPrintable(m_store.lastError()));
}

void TestExportCli::gpxAllDevices() {
    const QString path = out(QStringLiteral("all.gpx"));
    const Run r = exportCmd({QStringLiteral("--format"), QStringLiteral("gpx"), QStringLiteral("-o"), path});
    QVERIFY2(r.code == 0, r.err.constData());
    const qint64 total = m_carGps + m_carRecent + m_jtGps;
    QVERIFY2(r.out.contains(QStringLiteral("exported %1 points (2 tracks").arg(total).toUtf8()), r.out.constData());
    const Run lint = run(QStandardPaths::findExecutable(QStringLiteral("xmllint")),
                         {QStringLiteral("--noout"), QStringLiteral("--schema"), QStringLiteral(TD_TEST_DATA "/gpx-1.1.xsd"), path});
    QVERIFY2(lint.code == 0, lint.err.constData());
    const QByteArray data = readFile(path);
    QCOMPARE(countElements(data, QStringLiteral("trkpt")), int(total));
    QStringList names;
    QCOMPARE(countElements(data, QStringLiteral("name"), &names), 3);   // metadata + 2 tracks
    QVERIFY(names.contains(QStringLiteral("Car")));
    QVERIFY(names.contains(JtId));
    QVERIFY(data.contains("<bounds minlat=\"-33.9009000\""));
}

void TestExportCli::gpxOneDeviceAndRange_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("points");
    QTest::newRow("by name") << QStringList{QStringLiteral("--device"), QStringLiteral("car")} << int(200 + 4);
    QTest::newRow("by imei, range") << QStringList{QStringLiteral("-d"), CarImei, QStringLiteral("--from"),
                                                   QStringLiteral("2024-05-01T10:00:00Z"), QStringLiteral("--to"),
                                                   QStringLiteral("2024-05-01T10:14:59Z")}
                                    << 30;
    QTest::newRow("imei suffix, offset zone") << QStringList{QStringLiteral("-d"), QStringLiteral("3283581"), QStringLiteral("--from"),
                                                             QStringLiteral("2024-05-01T14:00+02:00"), QStringLiteral("--to"),
                                                             QStringLiteral("2024-05-01T12:00:00Z")}
                                              << 0;
    QTest::newRow("two devices, one day") << QStringList{QStringLiteral("-d"), QStringLiteral("Car"), QStringLiteral("-d"), JtId,
                                                         QStringLiteral("--from"), QStringLiteral("2024-05-01T00:00Z"),
                                                         QStringLiteral("--to"), QStringLiteral("2024-05-01T23:59:59Z")}
                                          << int(200 + 50);
}

void TestExportCli::gpxOneDeviceAndRange() {
    QFETCH(QStringList, args);
    QFETCH(int, points);
    const QString path = out(QStringLiteral("range.gpx"));
    const Run r = exportCmd(args + QStringList{QStringLiteral("-o"), path});
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY2(r.out.contains(QStringLiteral("exported %1 points").arg(points).toUtf8()), r.out.constData());
    QCOMPARE(countElements(readFile(path), QStringLiteral("trkpt")), points);
    if (points == 0)
        QVERIFY(r.out.contains("no fixes matched"));
}

void TestExportCli::allFixesAndSplit() {
    const QString path = out(QStringLiteral("split.gpx"));
    const Run r = exportCmd({QStringLiteral("-d"), QStringLiteral("Car"), QStringLiteral("--to"), QStringLiteral("2024-05-02"),
                             QStringLiteral("--all-fixes"), QStringLiteral("--split-gap"), QStringLiteral("60"),
                             QStringLiteral("-o"), path});
    QVERIFY2(r.code == 0, r.err.constData());
    const QByteArray data = readFile(path);
    QCOMPARE(countElements(data, QStringLiteral("trkpt")), int(m_carGps + m_carLbs));
    QCOMPARE(countElements(data, QStringLiteral("trkseg")), 2);   // the 2 h gap
    QStringList types;
    QCOMPARE(countElements(data, QStringLiteral("type"), &types), int(m_carLbs));
    QCOMPARE(types.first(), QStringLiteral("lbs"));
}

void TestExportCli::otherFormatsByExtension() {
    const qint64 total = m_carGps + m_carRecent + m_jtGps;
    const Run kml = exportCmd({QStringLiteral("-o"), out(QStringLiteral("all.kml"))});
    QVERIFY2(kml.code == 0, kml.err.constData());
    QVERIFY(kml.out.contains("as KML"));
    QCOMPARE(countElements(readFile(out(QStringLiteral("all.kml"))), QStringLiteral("when")), int(total));

    const Run geo = exportCmd({QStringLiteral("--split-gap"), QStringLiteral("30"), QStringLiteral("-o"), out(QStringLiteral("all.geojson"))});
    QVERIFY2(geo.code == 0, geo.err.constData());
    const QJsonArray features = QJsonDocument::fromJson(readFile(out(QStringLiteral("all.geojson")))).object().value(QLatin1String("features")).toArray();
    QCOMPARE(features.size(), 4);   // Car: 3 spans (the 2 h gap, the recent fixes), JT: 1
    int positions = 0;
    for (const QJsonValue &f : features) {
        const QJsonObject g = f.toObject().value(QLatin1String("geometry")).toObject();
        positions += int(g.value(QLatin1String("coordinates")).toArray().size());
    }
    QCOMPARE(positions, int(total));

    const Run csv = exportCmd({QStringLiteral("-d"), JtId, QStringLiteral("-o"), out(QStringLiteral("jt.csv"))});
    QVERIFY2(csv.code == 0, csv.err.constData());
    const QList<QByteArray> lines = readFile(out(QStringLiteral("jt.csv"))).trimmed().split('\n');
    QCOMPARE(lines.size(), int(1 + m_jtGps));
    QVERIFY(lines[1].startsWith(JtId.toLatin1() + ',' + JtId.toLatin1() + ",2024-05-01T10:00:00Z,-33.9000000,151.2000000,35,36,180,8,gps,1,,1"));
}

void TestExportCli::csvToStdout() {
    const Run r = exportCmd({QStringLiteral("-d"), JtId, QStringLiteral("--format"), QStringLiteral("csv"), QStringLiteral("-o"), QStringLiteral("-")});
    QVERIFY2(r.code == 0, r.err.constData());
    QCOMPARE(r.out.trimmed().split('\n').size(), int(1 + m_jtGps));
    QVERIFY(r.out.startsWith("device,name,time,"));
    QVERIFY2(r.err.contains("exported 50 points"), r.err.constData());   // the summary goes to stderr
}

void TestExportCli::recentWindow() {
    const QString path = out(QStringLiteral("recent.csv"));
    const Run r = exportCmd({QStringLiteral("--from"), QStringLiteral("24h"), QStringLiteral("--to"), QStringLiteral("now"),
                             QStringLiteral("-o"), path});
    QVERIFY2(r.code == 0, r.err.constData());
    QCOMPARE(readFile(path).trimmed().split('\n').size(), 1 + m_carRecent);
}

void TestExportCli::pcapng() {
    const QString path = out(QStringLiteral("frames.pcapng"));
    const Run r = exportCmd({QStringLiteral("--format"), QStringLiteral("pcapng"), QStringLiteral("--local-address"),
                             QStringLiteral("198.51.100.1"), QStringLiteral("--local-port"), QStringLiteral("5023"),
                             QStringLiteral("-o"), path});
    QVERIFY2(r.code == 0, r.err.constData());
    FrameFilter all;
    all.limit = 0;
    const QList<StoredFrame> frames = m_store.frames(all);
    QVERIFY(frames.size() > 50);
    QVERIFY2(r.out.contains(QStringLiteral("exported %1 frames").arg(frames.size()).toUtf8()), r.out.constData());
    QVERIFY2(r.out.contains("3 connections"), r.out.constData());   // two Car sockets and the JT one

    const QString tshark = QStandardPaths::findExecutable(QStringLiteral("tshark"));
    QVERIFY2(!tshark.isEmpty(), "tshark is part of the build environment");
    const Run t = run(tshark, {QStringLiteral("-r"), path, QStringLiteral("-T"), QStringLiteral("fields"), QStringLiteral("-e"),
                               QStringLiteral("ip.src"), QStringLiteral("-e"), QStringLiteral("tcp.srcport"), QStringLiteral("-e"),
                               QStringLiteral("tcp.payload"), QStringLiteral("-Y"), QStringLiteral("tcp.len > 0")});
    QVERIFY2(t.code == 0, t.err.constData());
    const QList<QByteArray> lines = t.out.trimmed().split('\n');
    QCOMPARE(lines.size(), frames.size());
    for (int i = 0; i < frames.size(); ++i) {
        const QList<QByteArray> c = lines[i].split('\t');
        QCOMPARE(c.size(), 3);
        QCOMPARE(QByteArray::fromHex(c[2]), frames[i].bytes);
        const bool in = frames[i].direction == proto::Direction::FromDevice;
        const QString peer = frames[i].peerAddress.startsWith(QLatin1String("::ffff:")) ? frames[i].peerAddress.mid(7) : frames[i].peerAddress;
        QCOMPARE(QString::fromLatin1(c[0]), in ? peer : QStringLiteral("198.51.100.1"));
        QCOMPARE(c[1].toInt(), in ? int(frames[i].peerPort) : 5023);
    }

    // One device's frames only.
    const Run one = exportCmd({QStringLiteral("-d"), JtId, QStringLiteral("-o"), out(QStringLiteral("jt.pcapng"))});
    QVERIFY2(one.code == 0, one.err.constData());
    QVERIFY2(one.out.contains("exported 10 frames"), one.out.constData());   // 5 inbound + 5 replies
}

void TestExportCli::usageErrors_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");
    QTest::newRow("no output") << QStringList{QStringLiteral("--format"), QStringLiteral("gpx")} << 2 << "no output file";
    QTest::newRow("unknown format") << QStringList{QStringLiteral("--format"), QStringLiteral("shp"), QStringLiteral("-o"), QStringLiteral("x.shp")}
                                    << 2 << "unknown format 'shp'";
    QTest::newRow("no format") << QStringList{QStringLiteral("-o"), QStringLiteral("x.txt")} << 2 << "cannot tell the format";
    QTest::newRow("bad from") << QStringList{QStringLiteral("--from"), QStringLiteral("last tuesday"), QStringLiteral("-o"), QStringLiteral("x.gpx")}
                              << 2 << "--from: cannot read the time 'last tuesday'";
    QTest::newRow("from after to") << QStringList{QStringLiteral("--from"), QStringLiteral("2024-05-02"), QStringLiteral("--to"),
                                                  QStringLiteral("2024-05-01"), QStringLiteral("-o"), QStringLiteral("x.gpx")}
                                   << 2 << "is after --to";
    QTest::newRow("bad split") << QStringList{QStringLiteral("--split-gap"), QStringLiteral("-3"), QStringLiteral("-o"), QStringLiteral("x.gpx")}
                               << 2 << "--split-gap";
    QTest::newRow("bad local address") << QStringList{QStringLiteral("--local-address"), QStringLiteral("1.2.3"), QStringLiteral("-o"), QStringLiteral("x.pcapng")}
                                       << 2 << "--local-address";
    QTest::newRow("unknown device") << QStringList{QStringLiteral("-d"), QStringLiteral("Boat"), QStringLiteral("-o"), QStringLiteral("x.gpx")}
                                    << 1 << "no device matches 'Boat' (known: 864717003283581 (Car), 013912345678)";
    QTest::newRow("missing folder") << QStringList{QStringLiteral("-o"), QStringLiteral("/nonexistent-folder/x.gpx")} << 1
                                    << "the folder /nonexistent-folder does not exist";
}

void TestExportCli::usageErrors() {
    QFETCH(QStringList, args);
    QFETCH(int, code);
    QFETCH(QString, message);
    QStringList full = args;
    for (QString &a : full)
        if (a.startsWith(QLatin1String("x.")))
            a = out(a);
    const Run r = exportCmd(full);
    QCOMPARE(r.code, code);
    QVERIFY2(r.err.startsWith("trackerdesk: error: "), r.err.constData());
    QVERIFY2(QString::fromUtf8(r.err).contains(message), r.err.constData());
    QCOMPARE(r.err.count('\n'), 1);   // one clear line
    for (const char *ext : {"gpx", "pcapng", "txt", "shp"})
        QVERIFY(!QFile::exists(out(QStringLiteral("x.") + QLatin1String(ext))));

    // No data folder at all.
    const Run none = run(m_exe, {QStringLiteral("export"), QStringLiteral("--data-dir"), out(QStringLiteral("empty-dir")),
                                 QStringLiteral("-o"), out(QStringLiteral("y.gpx"))});
    QCOMPARE(none.code, 1);
    QVERIFY2(none.err.contains("no TrackerDesk data in"), none.err.constData());
}

void TestExportCli::runnerOnStore() {
    exporter::TrackExportRequest req;
    req.formatId = QStringLiteral("gpx");
    req.deviceIds = {m_store.deviceByImei(JtId)->id};
    const QString path = out(QStringLiteral("runner.gpx"));
    exporter::ExportRunner runner;
    QSignalSpy finished(&runner, &exporter::ExportRunner::finished);
    QSignalSpy progress(&runner, &exporter::ExportRunner::progress);
    QVERIFY(runner.start(exporter::ExportRunner::trackExportWork(m_store.path(), req, path)));
    QVERIFY(finished.wait(60000));
    const auto r = finished.first().first().value<exporter::ExportResult>();
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.points, m_jtGps);
    QVERIFY(!progress.isEmpty());
    QCOMPARE(progress.first().at(1).toLongLong(), m_jtGps);   // the total comes from the store's count
    QCOMPARE(countElements(readFile(path), QStringLiteral("trkpt")), int(m_jtGps));

    exporter::FrameExportRequest freq;
    freq.options.localPort = 5023;
    QVERIFY(runner.start(exporter::ExportRunner::frameExportWork(m_store.path(), freq, out(QStringLiteral("runner.pcapng")))));
    QVERIFY(finished.wait(60000));
    const auto f = finished.last().first().value<exporter::ExportResult>();
    QVERIFY2(f.ok, qPrintable(f.error));
    QVERIFY(f.frames > 50);

    // A missing database: a clear error, no file.
    QVERIFY(runner.start(exporter::ExportRunner::trackExportWork(out(QStringLiteral("none.db")), req, out(QStringLiteral("none.gpx")))));
    QVERIFY(finished.wait(60000));
    const auto e = finished.last().first().value<exporter::ExportResult>();
    QVERIFY(!e.ok);
    QVERIFY2(e.error.contains(QLatin1String("no TrackerDesk database")), qPrintable(e.error));
    QVERIFY(!QFile::exists(out(QStringLiteral("none.gpx"))));
}

QTEST_GUILESS_MAIN(TestExportCli)
#include "tst_exportcli.moc"
