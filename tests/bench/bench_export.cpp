// Export benchmark: N fixes to GPX with TrackerDesk's streaming writer, beside GPSBabel
// converting the same fixes (from TrackerDesk's CSV export) to GPX in the same run.
//
//   bench_export [--points N[,N...]] [--source generator|store|both] [--keep DIR]
//
// Every export runs in a child process (this program re-started with --child), so its
// peak RSS (VmHWM) is its own; gpsbabel's peak RSS is read from /proc/<pid>/status while
// it runs (every 5 ms). Times are wall-clock times of the whole process, start-up included,
// for both. Sources:
//   generator  fixes computed on the fly (no I/O on the input side)
//   store      a real TrackerDesk database filled first through the store's writer path
//              (Store::applyBatch), then streamed with Store::forEachPosition
// Default: 100,000 and 1,000,000 fixes, both sources. Memory must be flat in N: the
// 100k and 1M rows show it.
#include "export/exporter.h"
#include "export/storesource.h"
#include "store/store.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QThread>
#include <QTimeZone>

#include <cmath>
#include <cstdio>

using namespace td;

namespace {

const qint64 T0 = 1714521600000LL;   // 2024-05-01T00:00:00Z

proto::Position makeFix(qint64 i) {
    proto::Position p;
    p.time = QDateTime::fromMSecsSinceEpoch(T0 + i * 5000, QTimeZone::UTC);
    p.latitude = 52.52 + 0.05 * std::sin(double(i) / 5000.0) + double(i % 1000) * 1e-6;
    p.longitude = 13.405 + 0.08 * std::cos(double(i) / 7000.0) + double(i % 777) * 1e-6;
    p.altitude = 34.0 + double(i % 50);
    p.speedKmh = double(i % 110) + 0.5;
    p.course = double((i * 3) % 360);
    p.satellites = int(5 + i % 8);
    p.valid = true;
    return p;
}

class GeneratorSource : public exporter::TrackSource {
public:
    explicit GeneratorSource(qint64 n) : m_n(n) {
        m_device.id = 1;
        m_device.key = QStringLiteral("864717003283581");
        m_device.name = QStringLiteral("Car");
    }
    qint64 count() override { return m_n; }
    bool forEach(const exporter::PositionCallback &cb) override {
        for (qint64 i = 0; i < m_n; ++i)
            if (!cb(m_device, makeFix(i)))
                break;
        return true;
    }

private:
    qint64 m_n;
    exporter::TrackDevice m_device;
};

qint64 statusKiB(const QString &file, const char *key) {
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray all = f.readAll();
    const qsizetype at = all.indexOf(key);
    if (at < 0)
        return -1;
    const qsizetype end = all.indexOf('\n', at);
    return all.mid(at + qsizetype(qstrlen(key)), end - at - qsizetype(qstrlen(key))).trimmed().split(' ').first().toLongLong();
}

// ---- child: one export, prints "points bytes export_ms vmhwm_kib" ----

int child(const QStringList &a) {
    // --child FORMAT N OUT generator|STOREPATH
    const QString format = a.value(0);
    const qint64 n = a.value(1).toLongLong();
    const QString out = a.value(2);
    const QString src = a.value(3);
    const exporter::ExportFormat *f = exporter::exportFormat(format);
    if (!f) {
        std::fprintf(stderr, "unknown format %s\n", qPrintable(format));
        return 2;
    }
    exporter::ExportInfo info;
    info.creator = QStringLiteral("TrackerDesk bench");
    info.created = QDateTime::currentDateTimeUtc();
    QElapsedTimer t;
    exporter::ExportResult r;
    if (src == QLatin1String("generator")) {
        GeneratorSource source(n);
        t.start();
        r = exporter::exportTracksToFile(source, *f, info, {}, out);
    } else {
        store::Store st;
        if (!st.open(src, exporter::exportStoreOptions())) {
            std::fprintf(stderr, "cannot open the store: %s\n", qPrintable(st.lastError()));
            return 1;
        }
        exporter::StoreTrackSource source(st, {}, QDateTime(), QDateTime(), {});
        t.start();
        r = exporter::exportTracksToFile(source, *f, info, {}, out);
    }
    const qint64 ms = t.elapsed();
    if (!r.ok) {
        std::fprintf(stderr, "export failed: %s\n", qPrintable(r.error));
        return 1;
    }
    std::printf("%lld %lld %lld %lld\n", r.points, r.bytes, ms, statusKiB(QStringLiteral("/proc/self/status"), "VmHWM:"));
    return 0;
}

// ---- parent ----

struct Measure {
    bool ok = false;
    double wallS = 0;
    qint64 peakKiB = -1;
    QByteArray out, err;
};

// Runs a program, polling its peak RSS; wall time from start to exit.
Measure measure(const QString &program, const QStringList &args) {
    Measure m;
    QProcess p;
    QElapsedTimer t;
    t.start();
    p.start(program, args);
    if (!p.waitForStarted(10000)) {
        m.err = p.errorString().toUtf8();
        return m;
    }
    const QString status = QStringLiteral("/proc/%1/status").arg(p.processId());
    while (!p.waitForFinished(5)) {
        const qint64 hwm = statusKiB(status, "VmHWM:");
        if (hwm > m.peakKiB)
            m.peakKiB = hwm;
        if (t.elapsed() > 30 * 60 * 1000) {
            p.kill();
            p.waitForFinished();
            m.err = "timeout";
            return m;
        }
    }
    m.wallS = double(t.nsecsElapsed()) / 1e9;
    m.out = p.readAllStandardOutput();
    m.err = p.readAllStandardError();
    m.ok = p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    return m;
}

bool buildStore(const QString &path, qint64 n) {
    store::Store st;
    store::StoreOptions o;
    o.synchronousFull = false;
    if (!st.open(path, o)) {
        std::fprintf(stderr, "cannot create the store: %s\n", qPrintable(st.lastError()));
        return false;
    }
    const QByteArray frame = QByteArray::fromHex("78781f120b081d112e10cc027ac7eb0c46584900148f01cc00287d001fb8000380810d0a");
    QList<store::WorkItem> batch;
    qint64 i = 0;
    while (i < n) {
        store::WorkItem w;
        w.kind = store::WorkItem::Inbound;
        w.deviceKey = QStringLiteral("864717003283581");
        w.peerAddress = QStringLiteral("203.0.113.7");
        w.peerPort = 41000;
        w.protocol = QStringLiteral("gt06");
        w.type = 0x12;
        w.bytes = frame;
        w.messageKind = proto::MessageKind::Position;
        for (int k = 0; k < 100 && i < n; ++k, ++i)
            w.positions << makeFix(i);
        w.serverTimeMs = w.positions.last().time.toMSecsSinceEpoch() + 1000;
        batch << w;
        if (batch.size() == 200 || i == n) {
            QList<store::WorkResult> results;
            if (!st.applyBatch(batch, &results)) {
                std::fprintf(stderr, "store write failed: %s\n", qPrintable(st.lastError()));
                return false;
            }
            batch.clear();
        }
    }
    return st.countPositions({}, QDateTime(), QDateTime()) == n;
}

QString mib(qint64 kib) { return kib < 0 ? QStringLiteral("?") : QString::number(double(kib) / 1024.0, 'f', 1) + QStringLiteral(" MiB"); }

void row(const char *what, qint64 n, const Measure &m, qint64 fileBytes, const QString &note = {}) {
    std::printf("  %-34s %9lld  %8.2f s  %9.0f/s  %10s  %8.1f MB  %s\n", what, n, m.wallS, double(n) / m.wallS,
                qPrintable(mib(m.peakKiB)), double(fileBytes) / 1e6, qPrintable(note));
    std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    QStringList args = app.arguments();
    args.removeFirst();
    if (args.value(0) == QLatin1String("--child"))
        return child(args.mid(1));

    QList<qint64> sizes{100000, 1000000};
    QString sources = QStringLiteral("both");
    QString keep;
    for (int i = 0; i < args.size(); ++i) {
        if (args[i] == QLatin1String("--points") && i + 1 < args.size()) {
            sizes.clear();
            for (const QString &s : args[++i].split(QLatin1Char(',')))
                sizes << s.toLongLong();
        } else if (args[i] == QLatin1String("--source") && i + 1 < args.size()) {
            sources = args[++i];
        } else if (args[i] == QLatin1String("--keep") && i + 1 < args.size()) {
            keep = args[++i];
        } else {
            std::fprintf(stderr, "usage: bench_export [--points N[,N...]] [--source generator|store|both] [--keep DIR]\n");
            return 2;
        }
    }
    const QString gpsbabel = QStandardPaths::findExecutable(QStringLiteral("gpsbabel"));
    QTemporaryDir tmp(keep.isEmpty() ? QDir::tempPath() + QStringLiteral("/bench_export-XXXXXX") : keep + QStringLiteral("/bench_export-XXXXXX"));
    tmp.setAutoRemove(keep.isEmpty());
    const QString self = QCoreApplication::applicationFilePath();
    std::printf("bench_export: TrackerDesk GPX export vs gpsbabel (unicsv -> gpx), %d cores, work dir %s\n",
                QThread::idealThreadCount(), qPrintable(tmp.path()));
    std::printf("  %-34s %9s  %10s  %11s  %10s  %11s\n", "", "fixes", "wall time", "rate", "peak RSS", "output");

    int failures = 0;
    for (qint64 n : sizes) {
        QStringList srcList;
        if (sources == QLatin1String("both") || sources == QLatin1String("generator"))
            srcList << QStringLiteral("generator");
        if (sources == QLatin1String("both") || sources == QLatin1String("store"))
            srcList << QStringLiteral("store");
        for (const QString &src : srcList) {
            QString input = QStringLiteral("generator");
            if (src == QLatin1String("store")) {
                input = tmp.filePath(QStringLiteral("store-%1/trackerdesk.db").arg(n));
                QElapsedTimer t;
                t.start();
                if (!buildStore(input, n)) {
                    ++failures;
                    continue;
                }
                std::printf("  (store with %lld fixes written in %.1f s, %.1f MB)\n", n, double(t.elapsed()) / 1000.0,
                            double(QFileInfo(input).size() + QFileInfo(input + QStringLiteral("-wal")).size()) / 1e6);
            }
            const QString gpx = tmp.filePath(QStringLiteral("td-%1-%2.gpx").arg(src).arg(n));
            const QString csv = tmp.filePath(QStringLiteral("td-%1-%2.csv").arg(src).arg(n));
            const Measure mg = measure(self, {QStringLiteral("--child"), QStringLiteral("gpx"), QString::number(n), gpx, input});
            const Measure mc = measure(self, {QStringLiteral("--child"), QStringLiteral("csv"), QString::number(n), csv, input});
            if (!mg.ok || !mc.ok) {
                std::fprintf(stderr, "export failed: %s %s\n", mg.err.constData(), mc.err.constData());
                ++failures;
                continue;
            }
            // The child's own VmHWM is exact (polling may miss the last milliseconds).
            Measure g2 = mg, c2 = mc;
            g2.peakKiB = qMax(mg.peakKiB, mg.out.trimmed().split(' ').value(3).toLongLong());
            c2.peakKiB = qMax(mc.peakKiB, mc.out.trimmed().split(' ').value(3).toLongLong());
            const QList<QByteArray> gOut = mg.out.trimmed().split(' ');
            const QString exportOnly = QStringLiteral("(export loop %1 s)").arg(double(gOut.value(2).toLongLong()) / 1000.0, 0, 'f', 2);
            row(qPrintable(QStringLiteral("trackerdesk gpx  [%1]").arg(src)), n, g2, QFileInfo(gpx).size(), exportOnly);
            row(qPrintable(QStringLiteral("trackerdesk csv  [%1]").arg(src)), n, c2, QFileInfo(csv).size());
            if (gpsbabel.isEmpty()) {
                std::printf("  gpsbabel not found: no baseline\n");
                continue;
            }
            const QString babelOut = tmp.filePath(QStringLiteral("babel-%1-%2.gpx").arg(src).arg(n));
            const Measure mb = measure(gpsbabel, {QStringLiteral("-i"), QStringLiteral("unicsv"), QStringLiteral("-f"), csv,
                                                  QStringLiteral("-o"), QStringLiteral("gpx"), QStringLiteral("-F"), babelOut});
            if (!mb.ok) {
                std::fprintf(stderr, "gpsbabel failed: %s\n", mb.err.constData());
                ++failures;
                continue;
            }
            row("gpsbabel unicsv->gpx (same fixes)", n, mb, QFileInfo(babelOut).size(), QStringLiteral("(peak polled every 5 ms)"));
            std::printf("  -> trackerdesk is %.1fx faster than gpsbabel and uses %.1fx less memory\n", mb.wallS / g2.wallS,
                        double(mb.peakKiB) / double(qMax<qint64>(1, g2.peakKiB)));
            QFile::remove(babelOut);
            QFile::remove(gpx);
            QFile::remove(csv);
        }
    }
    return failures ? 1 : 0;
}
