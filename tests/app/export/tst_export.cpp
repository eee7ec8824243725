// Track exports: every format is written and read back (QXmlStreamReader, QJsonDocument,
// a CSV parser), GPX is validated against the GPX 1.1 schema with xmllint and read by
// gpsbabel, numbers are checked under a German locale. The export job: filters, segment
// splitting, progress and cancel, and failures that must leave no half-written file
// (read-only folder, missing folder, a full device, a file size limit, a failing device,
// a failing source). Memory stays flat for long tracks (KML / GeoJSON spill to disk).
#include "export/exporter.h"
#include "export/exportrunner.h"
#include "export/outbuffer.h"
#include "export/timespec.h"
#include "exporttestdata.h"

#include <QBuffer>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimeZone>
#include <QXmlStreamReader>
#include <QtTest>

#include <clocale>
#include <csignal>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

using namespace td::exporter;
using namespace td::exporter::testdata;
using td::proto::Position;
using td::proto::PositionSource;

namespace {

struct Tool {
    int code = -1;
    QByteArray out, err;
};

Tool runTool(const QString &program, const QStringList &args) {
    Tool t;
    const QString exe = QStandardPaths::findExecutable(program);
    if (exe.isEmpty()) {
        t.err = program.toUtf8() + " not found";
        return t;
    }
    QProcess p;
    p.start(exe, args);
    if (!p.waitForStarted(10000)) {
        t.err = p.errorString().toUtf8();
        return t;
    }
    if (!p.waitForFinished(240000)) {
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

QByteArray readFile(const QString &path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

ExportInfo infoFor(const QList<TrackDevice> &devices = {}) {
    ExportInfo info;
    info.creator = QStringLiteral("TrackerDesk test");
    info.created = QDateTime(QDate(2024, 6, 1), QTime(12, 0), QTimeZone::UTC);
    info.devices = devices;
    return info;
}

QString fixed7(double v) { return QString::number(v, 'f', 7).replace(QStringLiteral("-0.0000000"), QStringLiteral("0.0000000")); }

// ---- readers ----

struct ReadPoint {
    QString lat, lon, time, ele, sat, speed, course, type;
};
struct ReadTrack {
    QString name;
    QList<QList<ReadPoint>> segments;
};
struct ReadGpx {
    QList<ReadTrack> tracks;
    QXmlStreamAttributes bounds;
    bool hasBounds = false;
    QString error;
    qint64 points() const {
        qint64 n = 0;
        for (const ReadTrack &t : tracks)
            for (const auto &s : t.segments)
                n += s.size();
        return n;
    }
};

ReadGpx readGpx(const QByteArray &data) {
    ReadGpx g;
    QXmlStreamReader x(data);
    const QString gpxNs = QStringLiteral("http://www.topografix.com/GPX/1/1");
    const QString tpxNs = QStringLiteral("http://www.garmin.com/xmlschemas/TrackPointExtension/v2");
    ReadPoint *pt = nullptr;
    QStringList path;
    while (!x.atEnd()) {
        x.readNext();
        if (x.isStartElement()) {
            const QString n = x.name().toString();
            path << n;
            if (x.namespaceUri() == gpxNs && n == QLatin1String("trk"))
                g.tracks.append(ReadTrack());
            else if (n == QLatin1String("trkseg"))
                g.tracks.last().segments.append(QList<ReadPoint>());
            else if (n == QLatin1String("trkpt")) {
                g.tracks.last().segments.last().append(ReadPoint());
                pt = &g.tracks.last().segments.last().last();
                pt->lat = x.attributes().value(QLatin1String("lat")).toString();
                pt->lon = x.attributes().value(QLatin1String("lon")).toString();
            } else if (n == QLatin1String("bounds")) {
                g.bounds = x.attributes();
                g.hasBounds = true;
            } else if (n == QLatin1String("name") && path.size() >= 2 && path[path.size() - 2] == QLatin1String("trk")) {
                g.tracks.last().name = x.readElementText();
                path.removeLast();
            } else if (pt && (n == QLatin1String("ele") || n == QLatin1String("time") || n == QLatin1String("sat")
                              || n == QLatin1String("type") || ((n == QLatin1String("speed") || n == QLatin1String("course"))
                                                                && x.namespaceUri() == tpxNs))) {
                const QString text = x.readElementText();
                path.removeLast();
                if (n == QLatin1String("ele")) pt->ele = text;
                else if (n == QLatin1String("time")) pt->time = text;
                else if (n == QLatin1String("sat")) pt->sat = text;
                else if (n == QLatin1String("type")) pt->type = text;
                else if (n == QLatin1String("speed")) pt->speed = text;
                else pt->course = text;
            }
        } else if (x.isEndElement()) {
            if (x.name() == QLatin1String("trkpt"))
                pt = nullptr;
            path.removeLast();
        }
    }
    if (x.hasError())
        g.error = x.errorString() + QStringLiteral(" at line %1").arg(x.lineNumber());
    return g;
}

// RFC 4180 records (quoted fields with commas, quotes and line breaks).
QList<QStringList> parseCsv(const QByteArray &data, QString *error) {
    QList<QStringList> rows;
    const QString s = QString::fromUtf8(data);
    QStringList row;
    QString cell;
    bool quoted = false, wasQuoted = false;
    for (qsizetype i = 0; i < s.size(); ++i) {
        const QChar c = s[i];
        if (quoted) {
            if (c == QLatin1Char('"')) {
                if (i + 1 < s.size() && s[i + 1] == QLatin1Char('"')) {
                    cell += QLatin1Char('"');
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                cell += c;
            }
        } else if (c == QLatin1Char('"')) {
            if (!cell.isEmpty()) {
                *error = QStringLiteral("quote inside an unquoted cell at %1").arg(i);
                return {};
            }
            quoted = wasQuoted = true;
        } else if (c == QLatin1Char(',')) {
            row << cell;
            cell.clear();
            wasQuoted = false;
        } else if (c == QLatin1Char('\r') && i + 1 < s.size() && s[i + 1] == QLatin1Char('\n')) {
            row << cell;
            rows << row;
            row.clear();
            cell.clear();
            wasQuoted = false;
            ++i;
        } else if (c == QLatin1Char('\n')) {
            *error = QStringLiteral("bare LF line end at %1").arg(i);
            return {};
        } else {
            cell += c;
        }
    }
    if (quoted)
        *error = QStringLiteral("unterminated quote");
    if (!cell.isEmpty() || !row.isEmpty() || wasQuoted) {
        row << cell;
        rows << row;
    }
    return rows;
}

qint64 procStatusKiB(const char *key) {
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith(key))
            return line.mid(qsizetype(strlen(key))).trimmed().split(' ').first().toLongLong();
    return -1;
}

// A device that accepts `limit` bytes and then fails like a broken disk.
class FailingDevice : public QIODevice {
public:
    explicit FailingDevice(qint64 limit) : m_limit(limit) { open(QIODevice::WriteOnly); }
    qint64 accepted = 0;

protected:
    qint64 readData(char *, qint64) override { return -1; }
    qint64 writeData(const char *, qint64 len) override {
        if (accepted + len > m_limit) {
            setErrorString(QStringLiteral("injected I/O error"));
            return -1;
        }
        accepted += len;
        return len;
    }

private:
    qint64 m_limit;
};

// A pipe-like device: not seekable.
class SequentialBuffer : public QIODevice {
public:
    SequentialBuffer() { open(QIODevice::WriteOnly); }
    QByteArray data;
    bool isSequential() const override { return true; }

protected:
    qint64 readData(char *, qint64) override { return -1; }
    qint64 writeData(const char *d, qint64 len) override {
        data.append(d, len);
        return len;
    }
};

// Drops the capabilities that let root write into read-only folders (this thread only).
class DropDacOverride {
public:
    DropDacOverride() {
        if (::geteuid() != 0)
            return;
        __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
        if (syscall(SYS_capget, &hdr, m_saved) != 0)
            return;
        __user_cap_data_struct data[2];
        memcpy(data, m_saved, sizeof data);
        data[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH) | (1u << CAP_FOWNER));
        m_active = syscall(SYS_capset, &hdr, data) == 0;
    }
    ~DropDacOverride() {
        if (m_active) {
            __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
            syscall(SYS_capset, &hdr, m_saved);
        }
    }

private:
    __user_cap_data_struct m_saved[2] = {};
    bool m_active = false;
};

QStringList entries(const QString &dir) {
    return QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
}

} // namespace

class TestExport : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void formatTable();
    void textOutput();
    void timeSpec_data();
    void timeSpec();
    void gpx_data();
    void gpx();
    void gpxFilters_data();
    void gpxFilters();
    void gpxEscapesNames();
    void gpxEmpty();
    void gpxToPipeHasNoBounds();
    void gpsbabelReadsGpxAndCsv();
    void kml();
    void geojson();
    void csv();
    void germanLocale();
    void progressAndCancel();
    void cancelledBeforeStart();
    void readOnlyFolder();
    void missingFolder();
    void fullDevice();
    void failingDevice();
    void fileSizeLimit();
    void sourceError();
    void memoryIsFlat_data();
    void memoryIsFlat();
    void runnerSignals();

private:
    ExportResult exportTo(TrackSource &src, const QString &format, const QString &path, const TrackOptions &o = {},
                          const ExportControl &c = {}) {
        const ExportFormat *f = exportFormat(format);
        if (!f) {
            ExportResult r;
            r.error = QStringLiteral("no format ") + format;
            return r;
        }
        return exportTracksToFile(src, *f, infoFor(), o, path, c);
    }
    // Empty when `file` is valid GPX 1.1. `stream`: validate while reading (big files).
    QString xmllint(const QString &file, bool stream = false) {
        QStringList args{QStringLiteral("--noout"), QStringLiteral("--schema"), QStringLiteral(TD_TEST_DATA "/gpx-1.1.xsd"), file};
        if (stream)
            args.prepend(QStringLiteral("--stream"));
        const Tool t = runTool(QStringLiteral("xmllint"), args);
        if (t.code != 0)
            return QString::fromUtf8(t.err.left(3000)) + QStringLiteral(" (exit %1)").arg(t.code);
        return QString();
    }
    QTemporaryDir m_dir;
    bool m_tools = false;
};

void TestExport::initTestCase() {
    QVERIFY(m_dir.isValid());
    m_tools = !QStandardPaths::findExecutable(QStringLiteral("xmllint")).isEmpty()
        && !QStandardPaths::findExecutable(QStringLiteral("gpsbabel")).isEmpty();
    if (!m_tools)
        qWarning("xmllint / gpsbabel not found: run the tests in the build environment (scripts/in-env)");
    QVERIFY2(m_tools, "xmllint and gpsbabel are part of the build environment");
}

void TestExport::formatTable() {
    QSet<QString> ids, exts;
    for (const ExportFormat &f : exportFormats()) {
        QVERIFY(!ids.contains(f.id));
        QVERIFY(!exts.contains(f.extension));
        ids.insert(f.id);
        exts.insert(f.extension);
        QCOMPARE(f.kind == ExportKind::Track, f.createWriter != nullptr);
        QCOMPARE(exportFormat(f.id.toUpper()), &f);
        QCOMPARE(exportFormatForPath(QStringLiteral("/x/y/track.") + f.extension.toUpper()), &f);
    }
    for (const char *id : {"gpx", "kml", "geojson", "csv", "pcapng"})
        QVERIFY2(ids.contains(QLatin1String(id)), id);
    QCOMPARE(exportFormatForPath(QStringLiteral("a.json"))->id, QStringLiteral("geojson"));
    QVERIFY(!exportFormatForPath(QStringLiteral("a.txt")));
    QVERIFY(!exportFormatForPath(QStringLiteral("noext")));
    QVERIFY(!exportFormat(QStringLiteral("shp")));
    QVERIFY(fileDialogFilter(ExportKind::Track).contains(QLatin1String("GPX 1.1 (*.gpx)")));
    QVERIFY(!fileDialogFilter(ExportKind::Track).contains(QLatin1String("pcapng")));
}

void TestExport::textOutput() {
    QCOMPARE(fixedNumber(52.52, 7), QByteArray("52.5200000"));
    QCOMPARE(fixedNumber(-0.00000001, 7), QByteArray("0.0000000"));
    QCOMPARE(fixedNumber(-70.12345678, 7), QByteArray("-70.1234568"));
    QCOMPARE(fixedNumber(180, 7), QByteArray("180.0000000"));
    QCOMPARE(trimmedNumber(12.5, 3), QByteArray("12.5"));
    QCOMPARE(trimmedNumber(3.0, 3), QByteArray("3"));
    QCOMPARE(trimmedNumber(-0.0001, 2), QByteArray("0"));
    QCOMPARE(trimmedNumber(0.0, 2), QByteArray("0"));
    QCOMPARE(trimmedNumber(std::nan(""), 2), QByteArray("0"));
    QCOMPARE(xmlEscaped(u"a<b>&\"c'\u0001\tz"), QByteArray("a&lt;b&gt;&amp;&quot;c&apos;&#9;z"));
    QCOMPARE(xmlEscaped(QString(QChar(0xD800))), QByteArray());      // lone surrogate dropped
    QCOMPARE(xmlEscaped(u"Grüße 🚗"), QString::fromUtf8("Grüße 🚗").toUtf8());
    QCOMPARE(jsonQuoted(u"a\"b\\c\n\u0001"), QByteArray("\"a\\\"b\\\\c\\n\\u0001\""));
    QCOMPARE(csvEscaped(u"plain"), QByteArray("plain"));
    QCOMPARE(csvEscaped(u"a,b"), QByteArray("\"a,b\""));
    QCOMPARE(csvEscaped(u"say \"hi\""), QByteArray("\"say \"\"hi\"\"\""));
    QCOMPARE(csvEscaped(u" padded"), QByteArray("\" padded\""));

    // ISO times against QDateTime, across leap days, the epoch, before it and far ahead.
    for (qint64 ms : {0LL, 1LL, 951782400000LL, 1709164800123LL, 1714521600000LL, -1LL, -86400000LL * 365 - 7,
                      253402300799999LL, 4102444800500LL}) {
        QBuffer b;
        b.open(QIODevice::WriteOnly);
        {
            OutBuffer o(&b);
            o.appendIsoTime(ms);
            QVERIFY(o.flush());
        }
        const QDateTime back = QDateTime::fromString(QString::fromLatin1(b.data()), Qt::ISODateWithMs);
        QCOMPARE(back.toMSecsSinceEpoch(), ms);
        QVERIFY(b.data().endsWith('Z'));
    }

    // Patching reserved space, inside the buffer and after it was flushed.
    QBuffer b;
    b.open(QIODevice::WriteOnly);
    {
        OutBuffer o(&b, 64);
        const qint64 at = o.reserve(4, '.');
        o.append("0123456789012345678901234567890123456789012345678901234567890123456789");
        const qint64 at2 = o.reserve(3, '.');
        QVERIFY(o.patch(at, "ABCD"));
        QVERIFY(o.patch(at2, "xyz"));
        o.append("!");
        QVERIFY(o.flush());
    }
    QCOMPARE(b.data(), QByteArray("ABCD0123456789012345678901234567890123456789012345678901234567890123456789xyz!"));
}

void TestExport::timeSpec_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("rangeEnd");
    QTest::addColumn<QDateTime>("expected");   // invalid: must be rejected
    const QDateTime now(QDate(2024, 5, 15), QTime(13, 45, 10));
    const QDateTime bad;
    QTest::newRow("now") << "now" << false << now;
    QTest::newRow("today from") << "today" << false << QDateTime(QDate(2024, 5, 15), QTime(0, 0));
    QTest::newRow("today to") << "Today" << true << QDateTime(QDate(2024, 5, 15), QTime(23, 59, 59, 999));
    QTest::newRow("yesterday from") << "yesterday" << false << QDateTime(QDate(2024, 5, 14), QTime(0, 0));
    QTest::newRow("yesterday to") << "yesterday" << true << QDateTime(QDate(2024, 5, 14), QTime(23, 59, 59, 999));
    QTest::newRow("24h") << "24h" << false << now.addSecs(-86400);
    QTest::newRow("-24h") << "-24h" << false << now.addSecs(-86400);
    QTest::newRow("7d") << "7d" << true << now.addDays(-7);
    QTest::newRow("7 days") << "7 days" << false << now.addDays(-7);
    QTest::newRow("90m") << "90m" << false << now.addSecs(-5400);
    QTest::newRow("90 min") << "90 min" << false << now.addSecs(-5400);
    QTest::newRow("2w") << "2w" << false << now.addDays(-14);
    QTest::newRow("45s") << "45s" << false << now.addSecs(-45);
    QTest::newRow("date from") << "2024-05-01" << false << QDateTime(QDate(2024, 5, 1), QTime(0, 0));
    QTest::newRow("date to") << "2024-05-01" << true << QDateTime(QDate(2024, 5, 1), QTime(23, 59, 59, 999));
    QTest::newRow("local minutes") << "2024-05-01T14:30" << false << QDateTime(QDate(2024, 5, 1), QTime(14, 30));
    QTest::newRow("local space") << "2024-05-01 14:30:05" << true << QDateTime(QDate(2024, 5, 1), QTime(14, 30, 5));
    QTest::newRow("utc ms") << "2024-05-01T14:30:05.250Z" << false
                            << QDateTime(QDate(2024, 5, 1), QTime(14, 30, 5, 250), QTimeZone::UTC);
    QTest::newRow("offset") << "2024-05-01T14:30:00+02:00" << false
                            << QDateTime(QDate(2024, 5, 1), QTime(12, 30), QTimeZone::UTC);
    QTest::newRow("offset compact") << "2024-05-01T14:30:00-0530" << false
                                    << QDateTime(QDate(2024, 5, 1), QTime(20, 0), QTimeZone::UTC);
    QTest::newRow("empty") << "" << false << bad;
    QTest::newRow("word") << "tomorrowish" << false << bad;
    QTest::newRow("month 13") << "2024-13-01" << false << bad;
    QTest::newRow("feb 30") << "2024-02-30T10:00" << false << bad;
    QTest::newRow("hour 25") << "2024-05-01T25:00" << false << bad;
    QTest::newRow("unit") << "24x" << false << bad;
    QTest::newRow("time only") << "12:00" << false << bad;
    QTest::newRow("zone 15h") << "2024-05-01T10:00+15:00" << false << bad;
    QTest::newRow("huge age") << "999999999d" << false << bad;
}

void TestExport::timeSpec() {
    QFETCH(QString, text);
    QFETCH(bool, rangeEnd);
    QFETCH(QDateTime, expected);
    const QDateTime now(QDate(2024, 5, 15), QTime(13, 45, 10));
    QString error;
    const auto t = parseTimeSpec(text, rangeEnd, now, &error);
    if (!expected.isValid()) {
        QVERIFY2(!t, qPrintable(t ? t->toString(Qt::ISODateWithMs) : QString()));
        QVERIFY(error.contains(QLatin1String("ISO 8601")));
        return;
    }
    QVERIFY2(t, qPrintable(error));
    QCOMPARE(t->toMSecsSinceEpoch(), expected.toMSecsSinceEpoch());
}

void TestExport::gpx_data() {
    QTest::addColumn<int>("devices");
    QTest::addColumn<int>("perDevice");
    QTest::addColumn<int>("gapEvery");
    QTest::addColumn<int>("gapMinutes");
    QTest::addColumn<int>("splitMinutes");
    QTest::addColumn<int>("segmentsPerDevice");
    QTest::newRow("one device") << 1 << 500 << 0 << 0 << 0 << 1;
    QTest::newRow("three devices, split on 30 min gaps") << 3 << 400 << 100 << 30 << 20 << 4;
    QTest::newRow("gaps shorter than the split") << 2 << 300 << 100 << 5 << 20 << 1;
    QTest::newRow("gaps but no split") << 2 << 300 << 100 << 60 << 0 << 1;
}

void TestExport::gpx() {
    QFETCH(int, devices);
    QFETCH(int, perDevice);
    QFETCH(int, gapEvery);
    QFETCH(int, gapMinutes);
    QFETCH(int, splitMinutes);
    QFETCH(int, segmentsPerDevice);
    Generator g;
    g.devices = devices;
    g.perDevice = perDevice;
    g.gapEvery = gapEvery;
    g.gapMinutes = gapMinutes;
    GeneratedSource src(g);
    TrackOptions o;
    o.splitGapMinutes = splitMinutes;
    const QString path = m_dir.filePath(QStringLiteral("gpx-%1.gpx").arg(QTest::currentDataTag()).replace(QLatin1Char(' '), QLatin1Char('_')));
    const ExportResult r = exportTo(src, QStringLiteral("gpx"), path, o);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.points, g.total());
    QCOMPARE(r.tracks, qint64(devices));
    QCOMPARE(r.segments, qint64(devices * segmentsPerDevice));
    QCOMPARE(r.rowsRead, g.total());
    QCOMPARE(r.bytes, QFileInfo(path).size());

    const QString invalid = xmllint(path);
    QVERIFY2(invalid.isEmpty(), qPrintable(invalid));

    const ReadGpx gpx = readGpx(readFile(path));
    QVERIFY2(gpx.error.isEmpty(), qPrintable(gpx.error));
    QCOMPARE(gpx.tracks.size(), devices);
    double minLat = 90, maxLat = -90, minLon = 180, maxLon = -180;
    static const QRegularExpression coordForm(QStringLiteral("^-?\\d{1,3}\\.\\d{7}$"));
    for (int d = 0; d < devices; ++d) {
        const ReadTrack &t = gpx.tracks[d];
        QCOMPARE(t.name, Generator::device(d).displayName());
        QCOMPARE(t.segments.size(), segmentsPerDevice);
        qint64 i = 0;
        for (const auto &seg : t.segments) {
            QCOMPARE(seg.size(), perDevice / segmentsPerDevice);
            for (const ReadPoint &p : seg) {
                const Position e = g.position(d, i);
                QVERIFY2(coordForm.match(p.lat).hasMatch(), qPrintable(p.lat));
                QVERIFY2(coordForm.match(p.lon).hasMatch(), qPrintable(p.lon));
                QCOMPARE(p.lat, fixed7(e.latitude));
                QCOMPARE(p.lon, fixed7(e.longitude));
                QCOMPARE(QDateTime::fromString(p.time, Qt::ISODateWithMs), e.time);
                QVERIFY(p.time.endsWith(QLatin1Char('Z')));
                QCOMPARE(p.ele.isEmpty(), !e.altitude.has_value());
                if (e.altitude)
                    QVERIFY(qAbs(p.ele.toDouble() - *e.altitude) < 0.006);
                QCOMPARE(p.sat.toInt(), *e.satellites);
                QVERIFY2(qAbs(p.speed.toDouble() - *e.speedKmh / 3.6) < 0.0006, qPrintable(p.speed));
                QVERIFY2(qAbs(p.course.toDouble() - *e.course) < 0.0006, qPrintable(p.course));
                QVERIFY(p.type.isEmpty());
                minLat = qMin(minLat, p.lat.toDouble());
                maxLat = qMax(maxLat, p.lat.toDouble());
                minLon = qMin(minLon, p.lon.toDouble());
                maxLon = qMax(maxLon, p.lon.toDouble());
                ++i;
            }
        }
        QCOMPARE(i, qint64(perDevice));
    }
    QVERIFY(gpx.hasBounds);
    QCOMPARE(gpx.bounds.value(QLatin1String("minlat")).toString(), fixed7(minLat));
    QCOMPARE(gpx.bounds.value(QLatin1String("maxlat")).toString(), fixed7(maxLat));
    QCOMPARE(gpx.bounds.value(QLatin1String("minlon")).toString(), fixed7(minLon));
    QCOMPARE(gpx.bounds.value(QLatin1String("maxlon")).toString(), fixed7(maxLon));
    QVERIFY(entries(m_dir.path()).filter(QLatin1String(".trackerdesk-export")).isEmpty());
}

void TestExport::gpxFilters_data() {
    QTest::addColumn<bool>("network");
    QTest::addColumn<int>("points");
    QTest::addColumn<QStringList>("types");
    QTest::newRow("valid GPS only") << false << 2 << QStringList{QString(), QString()};
    QTest::newRow("with LBS/Wi-Fi/SMS") << true << 5 << QStringList{QString(), QStringLiteral("lbs"), QStringLiteral("wifi"),
                                                                       QStringLiteral("sms"), QString()};
}

void TestExport::gpxFilters() {
    QFETCH(bool, network);
    QFETCH(int, points);
    QFETCH(QStringList, types);
    ListSource src;
    const TrackDevice dev{7, QStringLiteral("013912345678"), QString()};
    qint64 t = 1714521600000LL;
    auto fix = [&](PositionSource s, bool valid, bool coords = true) {
        Position p;
        p.time = QDateTime::fromMSecsSinceEpoch(t += 60000, QTimeZone::UTC);
        p.latitude = 22.5 + double(t % 1000) * 1e-6;
        p.longitude = 113.9;
        p.source = s;
        p.valid = valid;
        p.hasCoordinates = coords;
        if (s != PositionSource::Gps)
            p.accuracy = 550;
        return p;
    };
    src.add(dev, fix(PositionSource::Gps, true));
    src.add(dev, fix(PositionSource::Gps, false));            // last known position: never
    src.add(dev, fix(PositionSource::Lbs, false));
    src.add(dev, fix(PositionSource::Lbs, false, false));     // cells only, no coordinates: never
    src.add(dev, fix(PositionSource::Wifi, true));
    src.add(dev, fix(PositionSource::Sms, true));
    Position noTime = fix(PositionSource::Gps, true);
    noTime.timeValid = false;                                 // impossible date: never
    src.add(dev, noTime);
    Position out = fix(PositionSource::Gps, true);
    out.latitude = 91;                                        // out of range: never
    src.add(dev, out);
    Position nan = fix(PositionSource::Gps, true);
    nan.longitude = std::nan("");
    src.add(dev, nan);
    Position weird = fix(PositionSource::Gps, true);          // odd optional values are dropped/normalised
    weird.course = 360.0;
    weird.speedKmh = -5;
    weird.altitude = std::numeric_limits<double>::infinity();
    weird.satellites = -1;
    src.add(dev, weird);

    TrackOptions o;
    o.includeNetworkFixes = network;
    const QString path = m_dir.filePath(QStringLiteral("filters-%1.gpx").arg(network));
    const ExportResult r = exportTo(src, QStringLiteral("gpx"), path, o);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.points, qint64(points));
    QCOMPARE(r.skipped, qint64(src.rows.size() - points));
    const QString invalid = xmllint(path);
    QVERIFY2(invalid.isEmpty(), qPrintable(invalid));
    const ReadGpx gpx = readGpx(readFile(path));
    QCOMPARE(gpx.points(), qint64(points));
    QCOMPARE(gpx.tracks.first().name, dev.key);   // no name: the IMEI
    QStringList got;
    for (const ReadPoint &p : gpx.tracks.first().segments.first())
        got << p.type;
    QCOMPARE(got, types);
    const ReadPoint &last = gpx.tracks.first().segments.first().last();
    QCOMPARE(last.course, QStringLiteral("0"));
    QVERIFY(last.speed.isEmpty());
    QVERIFY(last.ele.isEmpty());
    QVERIFY(last.sat.isEmpty());
}

void TestExport::gpxEscapesNames() {
    ListSource src;
    const QString name = QStringLiteral("<Tom & \"Jerry's\"> \x01 car\u00e9 \U0001F697");
    const TrackDevice dev{1, QStringLiteral("864717003283581"), name};
    Position p;
    p.time = QDateTime(QDate(2024, 5, 1), QTime(10, 0), QTimeZone::UTC);
    p.latitude = 1;
    p.longitude = 2;
    p.valid = true;
    src.add(dev, p);
    for (const char *fmt : {"gpx", "kml"}) {
        const QString path = m_dir.filePath(QStringLiteral("names.") + QLatin1String(fmt));
        const ExportFormat *f = exportFormat(QLatin1String(fmt));
        const ExportResult r = exportTracksToFile(src, *f, infoFor({dev}), {}, path);
        QVERIFY2(r.ok, qPrintable(r.error));
        QXmlStreamReader x(readFile(path));
        QStringList names;
        while (!x.atEnd())
            if (x.readNext() == QXmlStreamReader::StartElement && x.name() == QLatin1String("name"))
                names << x.readElementText();
        QVERIFY2(!x.hasError(), qPrintable(x.errorString()));
        QVERIFY2(names.contains(QString(name).remove(QChar(1))), qPrintable(names.join(QLatin1Char('|'))));
    }
    const QString invalid = xmllint(m_dir.filePath(QStringLiteral("names.gpx")));
    QVERIFY2(invalid.isEmpty(), qPrintable(invalid));
}

void TestExport::gpxEmpty() {
    ListSource src;
    const QString path = m_dir.filePath(QStringLiteral("empty.gpx"));
    const ExportResult r = exportTo(src, QStringLiteral("gpx"), path);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.points, 0);
    const QString invalid = xmllint(path);
    QVERIFY2(invalid.isEmpty(), qPrintable(invalid));
    const ReadGpx gpx = readGpx(readFile(path));
    QVERIFY(gpx.error.isEmpty());
    QVERIFY(gpx.tracks.isEmpty());
    QVERIFY(!gpx.hasBounds);
    // The other formats are well-formed when empty too.
    for (const char *fmt : {"kml", "geojson", "csv"}) {
        const QString p2 = m_dir.filePath(QStringLiteral("empty.") + QLatin1String(fmt));
        QVERIFY(exportTo(src, QLatin1String(fmt), p2).ok);
        const QByteArray data = readFile(p2);
        if (qstrcmp(fmt, "geojson") == 0) {
            QJsonParseError e;
            const QJsonDocument doc = QJsonDocument::fromJson(data, &e);
            QVERIFY2(e.error == QJsonParseError::NoError, qPrintable(e.errorString()));
            QCOMPARE(doc.object().value(QLatin1String("features")).toArray().size(), 0);
        } else if (qstrcmp(fmt, "kml") == 0) {
            QXmlStreamReader x(data);
            while (!x.atEnd())
                x.readNext();
            QVERIFY(!x.hasError());
        } else {
            QCOMPARE(data.count('\n'), 1);   // the header only
        }
    }
}

void TestExport::gpxToPipeHasNoBounds() {
    Generator g;
    g.perDevice = 50;
    GeneratedSource src(g);
    SequentialBuffer pipe;
    const ExportResult r = exportTracks(src, *exportFormat(QStringLiteral("gpx")), infoFor(), {}, &pipe);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.bytes, pipe.data.size());
    const QString path = m_dir.filePath(QStringLiteral("pipe.gpx"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(pipe.data);
    f.close();
    const QString invalid = xmllint(path);
    QVERIFY2(invalid.isEmpty(), qPrintable(invalid));
    const ReadGpx gpx = readGpx(pipe.data);
    QCOMPARE(gpx.points(), 50);
    QVERIFY(!gpx.hasBounds);
}

void TestExport::gpsbabelReadsGpxAndCsv() {
    Generator g;
    g.devices = 2;
    g.perDevice = 700;
    g.gapEvery = 350;
    g.gapMinutes = 30;
    GeneratedSource src(g);
    TrackOptions o;
    o.splitGapMinutes = 10;
    const QString gpxPath = m_dir.filePath(QStringLiteral("babel.gpx"));
    const QString csvPath = m_dir.filePath(QStringLiteral("babel.csv"));
    QVERIFY(exportTo(src, QStringLiteral("gpx"), gpxPath, o).ok);
    QVERIFY(exportTo(src, QStringLiteral("csv"), csvPath, o).ok);
    const QString invalid = xmllint(gpxPath);
    QVERIFY2(invalid.isEmpty(), qPrintable(invalid));

    for (const auto &[path, args] : {std::pair{gpxPath, QStringList{QStringLiteral("-t"), QStringLiteral("-i"), QStringLiteral("gpx")}},
                                     std::pair{csvPath, QStringList{QStringLiteral("-i"), QStringLiteral("unicsv")}}}) {
        const Tool t = runTool(QStringLiteral("gpsbabel"), args + QStringList{QStringLiteral("-f"), path, QStringLiteral("-o"),
                                                                              QStringLiteral("unicsv,utc=0"), QStringLiteral("-F"), QStringLiteral("-")});
        QVERIFY2(t.code == 0, t.err.constData());
        QList<QByteArray> lines = t.out.trimmed().split('\n');
        const QList<QByteArray> header = lines.takeFirst().trimmed().split(',');
        const int latCol = int(header.indexOf("Latitude")), lonCol = int(header.indexOf("Longitude"));
        const int dateCol = int(header.indexOf("Date")), timeCol = int(header.indexOf("Time"));
        QVERIFY2(latCol >= 0 && lonCol >= 0 && dateCol >= 0 && timeCol >= 0, header.join(',').constData());
        QCOMPARE(lines.size(), g.total());
        for (int k = 0; k < lines.size(); ++k) {
            const QList<QByteArray> c = lines[k].trimmed().split(',');
            const Position e = g.position(k / int(g.perDevice), k % g.perDevice);
            QVERIFY2(qAbs(c[latCol].toDouble() - e.latitude) < 0.6e-6, c[latCol].constData());
            QVERIFY2(qAbs(c[lonCol].toDouble() - e.longitude) < 0.6e-6, c[lonCol].constData());
            const QDateTime when = QDateTime::fromString(QString::fromLatin1(c[dateCol] + ' ' + c[timeCol]),
                                                         QStringLiteral("yyyy/MM/dd HH:mm:ss"));
            QCOMPARE(QDateTime(when.date(), when.time(), QTimeZone::UTC), e.time);
        }
    }
}

void TestExport::kml() {
    Generator g;
    g.devices = 2;
    g.perDevice = 300;
    g.gapEvery = 100;
    g.gapMinutes = 30;
    GeneratedSource src(g);
    TrackOptions o;
    o.splitGapMinutes = 15;
    const QString path = m_dir.filePath(QStringLiteral("t.kml"));
    const ExportResult r = exportTo(src, QStringLiteral("kml"), path, o);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.segments, 6);

    QXmlStreamReader x(readFile(path));
    const QString kmlNs = QStringLiteral("http://www.opengis.net/kml/2.2");
    const QString gxNs = QStringLiteral("http://www.google.com/kml/ext/2.2");
    int placemarks = -1;
    QList<QStringList> whens, coords;   // per gx:Track
    QStringList names;
    bool inPlacemark = false;
    while (!x.atEnd()) {
        x.readNext();
        if (x.isStartElement()) {
            if (x.name() == QLatin1String("Placemark") && x.namespaceUri() == kmlNs) {
                ++placemarks;
                inPlacemark = true;
            } else if (inPlacemark && x.name() == QLatin1String("name")) {
                names << x.readElementText();
            } else if (x.name() == QLatin1String("Track") && x.namespaceUri() == gxNs) {
                whens.append(QStringList());
                coords.append(QStringList());
            } else if (x.name() == QLatin1String("when")) {
                QVERIFY2(coords.last().isEmpty(), "a <when> after a <gx:coord>");
                whens.last() << x.readElementText();
            } else if (x.name() == QLatin1String("coord") && x.namespaceUri() == gxNs) {
                coords.last() << x.readElementText();
            }
        } else if (x.isEndElement() && x.name() == QLatin1String("Placemark")) {
            inPlacemark = false;
        }
    }
    QVERIFY2(!x.hasError(), qPrintable(x.errorString()));
    QCOMPARE(placemarks + 1, 2);
    QCOMPARE(names, (QStringList{QStringLiteral("Car"), QStringLiteral("Bike 1")}));
    QCOMPARE(whens.size(), 6);
    for (int s = 0; s < 6; ++s) {
        QCOMPARE(whens[s].size(), 100);
        QCOMPARE(coords[s].size(), 100);
        for (int k = 0; k < 100; ++k) {
            const Position e = g.position(s / 3, (s % 3) * 100 + k);
            QCOMPARE(QDateTime::fromString(whens[s][k], Qt::ISODateWithMs), e.time);
            const QStringList c = coords[s][k].split(QLatin1Char(' '));
            QCOMPARE(c.size(), 3);
            QCOMPARE(c[0], fixed7(e.longitude));
            QCOMPARE(c[1], fixed7(e.latitude));
            QVERIFY(qAbs(c[2].toDouble() - e.altitude.value_or(0)) < 0.006);
        }
    }
}

void TestExport::geojson() {
    Generator g;
    g.devices = 2;
    g.perDevice = 201;
    g.gapEvery = 100;
    g.gapMinutes = 30;   // segments of 100, 100 and 1 fixes: the last is a Point
    GeneratedSource src(g);
    TrackOptions o;
    o.splitGapMinutes = 15;
    const QString path = m_dir.filePath(QStringLiteral("t.geojson"));
    const ExportResult r = exportTo(src, QStringLiteral("geojson"), path, o);
    QVERIFY2(r.ok, qPrintable(r.error));
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(readFile(path), &err);
    QVERIFY2(err.error == QJsonParseError::NoError, qPrintable(err.errorString()));
    const QJsonObject root = doc.object();
    QCOMPARE(root.value(QLatin1String("type")).toString(), QStringLiteral("FeatureCollection"));
    QVERIFY(!root.contains(QLatin1String("crs")));   // RFC 7946: WGS 84 only, no crs member
    const QJsonArray features = root.value(QLatin1String("features")).toArray();
    QCOMPARE(features.size(), 6);
    double w = 180, s = 90, e = -180, n = -90;
    for (int f = 0; f < features.size(); ++f) {
        const QJsonObject feat = features[f].toObject();
        QCOMPARE(feat.value(QLatin1String("type")).toString(), QStringLiteral("Feature"));
        const QJsonObject props = feat.value(QLatin1String("properties")).toObject();
        const int d = f / 3, seg = f % 3;
        QCOMPARE(props.value(QLatin1String("device")).toString(), Generator::device(d).key);
        QCOMPARE(props.value(QLatin1String("name")).toString(), Generator::device(d).displayName());
        QCOMPARE(props.value(QLatin1String("segment")).toInt(), seg + 1);
        const int count = seg == 2 ? 1 : 100;
        QCOMPARE(props.value(QLatin1String("points")).toInt(), count);
        const QJsonArray times = props.value(QLatin1String("coordTimes")).toArray();
        QCOMPARE(times.size(), count);
        const QJsonObject geom = feat.value(QLatin1String("geometry")).toObject();
        QJsonArray positions;
        if (count == 1) {
            QCOMPARE(geom.value(QLatin1String("type")).toString(), QStringLiteral("Point"));
            positions.append(geom.value(QLatin1String("coordinates")));
        } else {
            QCOMPARE(geom.value(QLatin1String("type")).toString(), QStringLiteral("LineString"));
            positions = geom.value(QLatin1String("coordinates")).toArray();
        }
        QCOMPARE(positions.size(), count);
        for (int k = 0; k < count; ++k) {
            const Position exp = g.position(d, seg * 100 + k);
            const QJsonArray pos = positions[k].toArray();
            QCOMPARE(pos.size(), exp.altitude ? 3 : 2);
            QVERIFY(qAbs(pos[0].toDouble() - exp.longitude) < 0.6e-7);   // RFC 7946: longitude first
            QVERIFY(qAbs(pos[1].toDouble() - exp.latitude) < 0.6e-7);
            QCOMPARE(QDateTime::fromString(times[k].toString(), Qt::ISODateWithMs), exp.time);
            w = qMin(w, exp.longitude);
            e = qMax(e, exp.longitude);
            s = qMin(s, exp.latitude);
            n = qMax(n, exp.latitude);
        }
        QCOMPARE(feat.value(QLatin1String("bbox")).toArray().size(), 4);
    }
    const QJsonArray bbox = root.value(QLatin1String("bbox")).toArray();
    QCOMPARE(bbox.size(), 4);
    QVERIFY(qAbs(bbox[0].toDouble() - w) < 1e-7);
    QVERIFY(qAbs(bbox[1].toDouble() - s) < 1e-7);
    QVERIFY(qAbs(bbox[2].toDouble() - e) < 1e-7);
    QVERIFY(qAbs(bbox[3].toDouble() - n) < 1e-7);
}

void TestExport::csv() {
    ListSource src;
    const TrackDevice dev{3, QStringLiteral("864717003283581"), QStringLiteral("Van, \"blue\"\nsecond line")};
    Generator g;
    for (int i = 0; i < 40; ++i) {
        Position p = g.position(1, i);
        if (i == 5) {
            p.source = PositionSource::Lbs;
            p.valid = false;
            p.accuracy = 1200;
            p.altitude.reset();
            p.speedKmh.reset();
            p.course.reset();
            p.satellites.reset();
        }
        src.add(dev, p);
    }
    TrackOptions o;
    o.includeNetworkFixes = true;
    const QString path = m_dir.filePath(QStringLiteral("t.csv"));
    const ExportResult r = exportTo(src, QStringLiteral("csv"), path, o);
    QVERIFY2(r.ok, qPrintable(r.error));
    QString error;
    const QList<QStringList> rows = parseCsv(readFile(path), &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(rows.size(), 41);
    const QStringList header = rows[0];
    QCOMPARE(header, QStringLiteral("device,name,time,latitude,longitude,altitude,speed_kmh,course,satellites,source,"
                                    "valid,accuracy_m,segment").split(QLatin1Char(',')));
    for (int i = 0; i < 40; ++i) {
        const QStringList &c = rows[i + 1];
        QCOMPARE(c.size(), header.size());
        const Position &e = src.rows[i].second;
        QCOMPARE(c[0], dev.key);
        QCOMPARE(c[1], dev.name);
        QCOMPARE(QDateTime::fromString(c[2], Qt::ISODateWithMs), e.time);
        QCOMPARE(c[3], fixed7(e.latitude));
        QCOMPARE(c[4], fixed7(e.longitude));
        QCOMPARE(c[5].isEmpty(), !e.altitude);
        if (e.altitude)
            QVERIFY(qAbs(c[5].toDouble() - *e.altitude) < 0.006);
        QCOMPARE(c[6].isEmpty(), !e.speedKmh);
        if (e.speedKmh)
            QVERIFY(qAbs(c[6].toDouble() - *e.speedKmh) < 0.006);
        if (e.course)
            QVERIFY(qAbs(c[7].toDouble() - *e.course) < 0.0006);
        QCOMPARE(c[8], e.satellites ? QString::number(*e.satellites) : QString());
        QCOMPARE(c[9], i == 5 ? QStringLiteral("lbs") : QStringLiteral("gps"));
        QCOMPARE(c[10], i == 5 ? QStringLiteral("0") : QStringLiteral("1"));
        QCOMPARE(c[11], i == 5 ? QStringLiteral("1200") : QString());
        QCOMPARE(c[12], QStringLiteral("1"));
    }
}

void TestExport::germanLocale() {
    // The numbers of every format must not follow the user's locale (a German desktop
    // writes 52,5 with QLocale and, with setlocale, with printf).
    const QLocale saved;
    QLocale::setDefault(QLocale(QLocale::German, QLocale::Germany));
    QCOMPARE(QLocale().toString(1.5), QStringLiteral("1,5"));   // the locale is really in effect
    const QByteArray savedC = std::setlocale(LC_NUMERIC, nullptr);
    bool cLocale = false;
    for (const char *name : {"de_DE.UTF-8", "de_DE.utf8", "de_DE", "German_Germany.1252"})
        if (std::setlocale(LC_NUMERIC, name)) {
            cLocale = true;
            break;
        }
    if (!cLocale)
        qInfo("no German C locale installed: checking QLocale only");
    const auto restore = qScopeGuard([&] {
        QLocale::setDefault(saved);
        std::setlocale(LC_NUMERIC, savedC.constData());
    });

    Generator g;
    g.devices = 2;
    g.perDevice = 200;
    GeneratedSource src(g);
    static const QRegularExpression germanNumber(QStringLiteral("\\d,\\d{2}"));
    for (const char *fmt : {"gpx", "kml", "geojson", "csv"}) {
        const QString path = m_dir.filePath(QStringLiteral("de.") + QLatin1String(fmt));
        const ExportResult r = exportTo(src, QLatin1String(fmt), path);
        QVERIFY2(r.ok, qPrintable(r.error));
        const QByteArray data = readFile(path);
        if (qstrcmp(fmt, "csv") == 0) {
            QString error;
            const QList<QStringList> rows = parseCsv(data, &error);
            QVERIFY(error.isEmpty());
            for (const QStringList &row : rows)
                QCOMPARE(row.size(), 13);   // a decimal comma would add columns
            QCOMPARE(rows[1][3], fixed7(g.position(0, 0).latitude));
        } else {
            // XML and JSON: no digit-comma-digit anywhere except inside JSON arrays, where
            // the comma separates numbers; there every number must have a decimal point.
            if (qstrcmp(fmt, "geojson") == 0) {
                static const QRegularExpression coord(QStringLiteral("\\[(-?\\d+\\.\\d{7}),(-?\\d+\\.\\d{7})(,-?\\d+(\\.\\d+)?)?\\]"));
                QVERIFY(coord.match(QString::fromLatin1(data)).hasMatch());
                QVERIFY(QJsonDocument::fromJson(data).isObject());
            } else {
                QVERIFY2(!germanNumber.match(QString::fromUtf8(data)).hasMatch(), fmt);
            }
        }
        if (qstrcmp(fmt, "gpx") == 0) {
            const QString invalid = xmllint(path);
            QVERIFY2(invalid.isEmpty(), qPrintable(invalid));
            const ReadGpx gpx = readGpx(data);
            QCOMPARE(gpx.tracks[0].segments[0][1].lat, fixed7(g.position(0, 1).latitude));
        }
    }
}

void TestExport::progressAndCancel() {
    Generator g;
    g.devices = 2;
    g.perDevice = 100000;
    GeneratedSource src(g);
    const QString path = m_dir.filePath(QStringLiteral("cancel.gpx"));
    {
        QFile old(path);
        QVERIFY(old.open(QIODevice::WriteOnly));
        old.write("old content");
    }
    const QStringList before = entries(m_dir.path());

    // A complete run: progress from 0 to the total, increasing.
    QList<QPair<qint64, qint64>> calls;
    ExportControl c;
    c.progress = [&calls](qint64 done, qint64 total) { calls.append({done, total}); };
    c.progressEvery = 10000;
    const QString full = m_dir.filePath(QStringLiteral("full.gpx"));
    ExportResult r = exportTo(src, QStringLiteral("gpx"), full, {}, c);
    QVERIFY2(r.ok, qPrintable(r.error));
    QVERIFY(calls.size() >= 20);
    QCOMPARE(calls.first(), (QPair<qint64, qint64>(0, g.total())));
    QCOMPARE(calls.last(), (QPair<qint64, qint64>(g.total(), g.total())));
    for (int i = 1; i < calls.size(); ++i) {
        QVERIFY(calls[i].first >= calls[i - 1].first);
        QCOMPARE(calls[i].second, g.total());
    }
    const QString invalid = xmllint(full, true);
    QVERIFY2(invalid.isEmpty(), qPrintable(invalid));
    QVERIFY(QFile::remove(full));

    // Cancel half-way: no file under the target name (the old one stays), no temp files.
    for (const char *fmt : {"gpx", "kml", "geojson", "csv"}) {
        std::atomic<bool> cancel{false};
        qint64 lastDone = 0;
        ExportControl cc;
        cc.cancel = &cancel;
        cc.progressEvery = 1000;
        cc.progress = [&](qint64 done, qint64) {
            lastDone = done;
            if (done >= 90000)
                cancel = true;
        };
        r = exportTo(src, QLatin1String(fmt), path, {}, cc);
        QVERIFY(!r.ok);
        QVERIFY(r.cancelled);
        QVERIFY(r.rowsRead < 100000);
        QCOMPARE(readFile(path), QByteArray("old content"));
        QCOMPARE(entries(m_dir.path()), before);
    }
}

void TestExport::cancelledBeforeStart() {
    Generator g;
    GeneratedSource src(g);
    std::atomic<bool> cancel{true};
    ExportControl c;
    c.cancel = &cancel;
    const QString path = m_dir.filePath(QStringLiteral("never.csv"));
    const ExportResult r = exportTo(src, QStringLiteral("csv"), path, {}, c);
    QVERIFY(r.cancelled);
    QCOMPARE(r.rowsRead, 0);
    QVERIFY(!QFile::exists(path));
}

void TestExport::readOnlyFolder() {
    const QString dir = m_dir.filePath(QStringLiteral("readonly"));
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(QFile::setPermissions(dir, QFileDevice::ReadOwner | QFileDevice::ExeOwner | QFileDevice::ReadGroup
                                           | QFileDevice::ExeGroup | QFileDevice::ReadOther | QFileDevice::ExeOther));
    const auto restore = qScopeGuard([&] { QFile::setPermissions(dir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner); });
    DropDacOverride unprivileged;   // root (the build environment) ignores permissions otherwise
    {
        QFile probe(dir + QStringLiteral("/probe"));
        if (probe.open(QIODevice::WriteOnly)) {
            probe.remove();
            QSKIP("this process can write into a read-only folder (root without a way to drop CAP_DAC_OVERRIDE)");
        }
    }
    Generator g;
    GeneratedSource src(g);
    for (const char *fmt : {"gpx", "pcapng"}) {
        const QString path = dir + QStringLiteral("/out.") + QLatin1String(fmt);
        ExportResult r;
        if (qstrcmp(fmt, "pcapng") == 0) {
            class NoFrames : public FrameSource {
            public:
                bool forEach(const FrameCallback &) override { return true; }
            } frames;
            r = exportFramesToFile(frames, {}, path);
        } else {
            r = exportTo(src, QLatin1String(fmt), path);
        }
        QVERIFY(!r.ok);
        QVERIFY(!r.cancelled);
        QVERIFY2(r.error.contains(path), qPrintable(r.error));
        QVERIFY2(r.error.contains(QLatin1String("ermission denied")), qPrintable(r.error));
        QVERIFY(!QFile::exists(path));
    }
    QVERIFY(entries(dir).isEmpty());
}

void TestExport::missingFolder() {
    Generator g;
    GeneratedSource src(g);
    const QString path = m_dir.filePath(QStringLiteral("no/such/folder/out.gpx"));
    const ExportResult r = exportTo(src, QStringLiteral("gpx"), path);
    QVERIFY(!r.ok);
    QVERIFY2(r.error.contains(QLatin1String("does not exist")), qPrintable(r.error));
    const ExportResult r2 = exportTo(src, QStringLiteral("gpx"), m_dir.path());
    QVERIFY(!r2.ok);
    QVERIFY2(r2.error.contains(QLatin1String("folder")), qPrintable(r2.error));
    const ExportResult r3 = exportTo(src, QStringLiteral("gpx"), QString());
    QVERIFY(!r3.ok);
    QVERIFY2(r3.error.contains(QLatin1String("no output file")), qPrintable(r3.error));
}

void TestExport::fullDevice() {
    // /dev/full fails every write with ENOSPC, like a full disk.
    QFile full(QStringLiteral("/dev/full"));
    if (!full.open(QIODevice::WriteOnly | QIODevice::Unbuffered))
        QSKIP("/dev/full is not available");
    Generator g;
    g.perDevice = 100000;
    for (const char *fmt : {"gpx", "kml", "geojson", "csv"}) {
        GeneratedSource src(g);
        const ExportResult r = exportTracks(src, *exportFormat(QLatin1String(fmt)), infoFor(), {}, &full);
        QVERIFY(!r.ok);
        QVERIFY(!r.cancelled);
        QVERIFY2(r.error.contains(QString::fromLocal8Bit(strerror(ENOSPC))), qPrintable(r.error));
        QVERIFY2(r.rowsRead < g.total(), fmt);   // stopped at the first write error
    }
}

void TestExport::failingDevice() {
    Generator g;
    g.perDevice = 100000;
    GeneratedSource src(g);
    FailingDevice dev(3 * 1024 * 1024);
    const ExportResult r = exportTracks(src, *exportFormat(QStringLiteral("gpx")), infoFor(), {}, &dev);
    QVERIFY(!r.ok);
    QVERIFY2(r.error.contains(QLatin1String("injected I/O error")), qPrintable(r.error));
    QVERIFY(r.rowsRead < g.total());
    QVERIFY(dev.accepted <= 3 * 1024 * 1024);

    // The pcapng writer through the same path.
    class Frames : public FrameSource {
    public:
        bool forEach(const FrameCallback &cb) override {
            for (int i = 0; i < 200000; ++i)
                if (!cb({qint64(i) * 1000, td::proto::Direction::FromDevice, QStringLiteral("192.0.2.1"), 1000, QString(), 0,
                         QByteArray(40, 'x'), QString()}))
                    return true;
            return true;
        }
    } frames;
    FailingDevice dev2(1024 * 1024);
    const ExportResult r2 = exportFrames(frames, {}, &dev2);
    QVERIFY(!r2.ok);
    QVERIFY2(r2.error.contains(QLatin1String("injected I/O error")), qPrintable(r2.error));
    QVERIFY(r2.rowsRead < 200000);
}

void TestExport::fileSizeLimit() {
    // A real write error on the file path: RLIMIT_FSIZE makes write() fail with EFBIG
    // once the temporary file reaches 300 KiB, as a nearly full disk would.
    struct rlimit saved;
    QCOMPARE(getrlimit(RLIMIT_FSIZE, &saved), 0);
    const auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    const QString path = m_dir.filePath(QStringLiteral("limited.kml"));
    {
        QFile old(path);
        QVERIFY(old.open(QIODevice::WriteOnly));
        old.write("previous export");
    }
    const QStringList before = entries(m_dir.path());
    struct rlimit small = saved;
    small.rlim_cur = 300 * 1024;
    QCOMPARE(setrlimit(RLIMIT_FSIZE, &small), 0);
    Generator g;
    g.perDevice = 60000;
    GeneratedSource src(g);
    const ExportResult r = exportTo(src, QStringLiteral("kml"), path);
    setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, oldHandler);
    QVERIFY(!r.ok);
    QVERIFY2(r.error.contains(path), qPrintable(r.error));
    QVERIFY2(r.error.contains(QString::fromLocal8Bit(strerror(EFBIG))), qPrintable(r.error));
    QCOMPARE(readFile(path), QByteArray("previous export"));
    QCOMPARE(entries(m_dir.path()), before);
}

void TestExport::sourceError() {
    Generator g;
    g.perDevice = 100000;
    GeneratedSource src(g);
    src.failAfter = 50000;
    const QString path = m_dir.filePath(QStringLiteral("srcerr.gpx"));
    {
        QFile old(path);
        QVERIFY(old.open(QIODevice::WriteOnly));
        old.write("old");
    }
    const QStringList before = entries(m_dir.path());
    const ExportResult r = exportTo(src, QStringLiteral("gpx"), path);
    QVERIFY(!r.ok);
    QVERIFY(!r.cancelled);
    QVERIFY2(r.error.contains(QLatin1String("cannot read the data: disk I/O error (simulated)")), qPrintable(r.error));
    QCOMPARE(r.rowsRead, 50000);
    QCOMPARE(readFile(path), QByteArray("old"));
    QCOMPARE(entries(m_dir.path()), before);
}

void TestExport::memoryIsFlat_data() {
    QTest::addColumn<QString>("format");
    QTest::newRow("gpx") << "gpx";
    QTest::newRow("kml") << "kml";
    QTest::newRow("geojson") << "geojson";
    QTest::newRow("csv") << "csv";
}

void TestExport::memoryIsFlat() {
    QFETCH(QString, format);
    // 500,000 fixes in ONE segment: the worst case for KML / GeoJSON, which must reorder
    // (all times before all coordinates). Holding them would take > 20 MiB; the export
    // may grow the peak RSS by a few MiB of buffers only.
    QFile clear(QStringLiteral("/proc/self/clear_refs"));
    if (!clear.open(QIODevice::WriteOnly) || clear.write("5") != 1)
        QSKIP("cannot reset the peak RSS (/proc/self/clear_refs)");
    clear.close();
    const qint64 rssBefore = procStatusKiB("VmRSS:");
    const qint64 hwmReset = procStatusKiB("VmHWM:");
    QVERIFY(rssBefore > 0 && hwmReset > 0);
    Generator g;
    g.perDevice = 500000;
    GeneratedSource src(g);
    const QString path = m_dir.filePath(QStringLiteral("big.") + format);
    const ExportResult r = exportTo(src, format, path);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.points, 500000);
    const qint64 growthKiB = procStatusKiB("VmHWM:") - rssBefore;
    qInfo("%s: %lld points, %lld bytes, peak RSS growth %lld KiB", qPrintable(format), r.points, r.bytes, growthKiB);
    QVERIFY2(r.bytes > 20 * 1024 * 1024, "the file is smaller than the memory bound: the check would prove nothing");
    QVERIFY2(growthKiB < 12 * 1024, qPrintable(QStringLiteral("peak RSS grew by %1 KiB").arg(growthKiB)));
    QVERIFY(entries(m_dir.path()).filter(QLatin1String(".trackerdesk-export")).isEmpty());
    // What went through the spill file came back complete and in order.
    const QByteArray data = readFile(path);
    const Position last = g.position(0, 499999);
    if (format == QLatin1String("gpx")) {
        const QString invalid = xmllint(path, true);
        QVERIFY2(invalid.isEmpty(), qPrintable(invalid));
        QCOMPARE(data.count("<trkpt "), 500000);
    } else if (format == QLatin1String("kml")) {
        QCOMPARE(data.count("<when>"), 500000);
        QCOMPARE(data.count("<gx:coord>"), 500000);
        const QByteArray lastCoord = "<gx:coord>" + fixed7(last.longitude).toLatin1() + ' ' + fixed7(last.latitude).toLatin1() + ' ';
        QVERIFY(data.lastIndexOf("<gx:coord>") == data.lastIndexOf(lastCoord));
        QVERIFY(data.indexOf("<gx:coord>") > data.lastIndexOf("<when>"));
    } else if (format == QLatin1String("geojson")) {
        const QJsonDocument doc = QJsonDocument::fromJson(data);
        const QJsonArray features = doc.object().value(QLatin1String("features")).toArray();
        QCOMPARE(features.size(), 1);
        const QJsonArray coords = features[0].toObject().value(QLatin1String("geometry")).toObject().value(QLatin1String("coordinates")).toArray();
        QCOMPARE(coords.size(), 500000);
        QVERIFY(qAbs(coords.last().toArray().at(0).toDouble() - last.longitude) < 1e-7);
        QVERIFY(qAbs(coords.first().toArray().at(1).toDouble() - g.position(0, 0).latitude) < 1e-7);
    }
    QFile::remove(path);
}

void TestExport::runnerSignals() {
    Generator g;
    g.perDevice = 300000;
    const QString path = m_dir.filePath(QStringLiteral("runner.csv"));
    ExportRunner runner;
    QSignalSpy progress(&runner, &ExportRunner::progress);
    QSignalSpy finished(&runner, &ExportRunner::finished);
    const QThread *mainThread = QThread::currentThread();
    bool progressOnMain = true;
    connect(&runner, &ExportRunner::progress, this, [&] { progressOnMain = progressOnMain && QThread::currentThread() == mainThread; });
    auto work = [g, path](const ExportControl &c) {
        GeneratedSource src(g);
        return exportTracksToFile(src, *exportFormat(QStringLiteral("csv")), infoFor(), {}, path, c);
    };
    QVERIFY(runner.start(work));
    QVERIFY(!runner.start(work));   // one at a time
    QVERIFY(finished.wait(120000));
    const ExportResult r = finished.first().first().value<ExportResult>();
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.points, g.total());
    QVERIFY(progress.size() >= 2);
    QCOMPARE(progress.last().at(0).toLongLong(), g.total());
    QCOMPARE(progress.last().at(1).toLongLong(), g.total());
    QVERIFY(progressOnMain);
    QVERIFY(QFile::exists(path));
    QVERIFY(QFile::remove(path));

    // Cancel from the owner's thread while it runs.
    finished.clear();
    g.perDevice = 5000000;
    auto slow = [g, path](const ExportControl &c) {
        GeneratedSource src(g);
        return exportTracksToFile(src, *exportFormat(QStringLiteral("csv")), infoFor(), {}, path, c);
    };
    QVERIFY(runner.start(slow));
    QTRY_VERIFY_WITH_TIMEOUT(progress.size() > 3, 20000);
    runner.cancel();
    QVERIFY(finished.wait(60000));
    const ExportResult c = finished.first().first().value<ExportResult>();
    QVERIFY(c.cancelled);
    QVERIFY(c.rowsRead < g.total());
    QVERIFY(!QFile::exists(path));
}

QTEST_GUILESS_MAIN(TestExport)
#include "tst_export.moc"
