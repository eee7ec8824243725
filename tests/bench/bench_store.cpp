// bench_store: "track of device D between T1 and T2" on a million stored positions.
// Fills a store on disk with 1,000 devices x 1,000 fixes through the writer path
// (Store::applyBatch, as the server does), then times the streaming track query
// (forEachPosition) for random devices and windows, the per-device count, the latest fix
// of every device and a frames page. Prints the query plan too.
//   bench_store [--devices N] [--fixes N] [--queries N] [--dir DIR]
//               [--batch N] [--replies] [--autocheckpoint PAGES] [--fill-only]
// The fill options measure the writer alone in the server's conditions (group commits of a
// few hundred items, an ack frame stored with each fix).
#include "store/store.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QSqlQuery>
#include <QTimeZone>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace td;

namespace {

struct Timing {
    std::vector<double> ms;
    QString text() {
        std::sort(ms.begin(), ms.end());
        auto at = [this](double q) { return ms[std::min(ms.size() - 1, size_t(q * double(ms.size() - 1) + 0.5))]; };
        return QStringLiteral("p50 %1 ms, p99 %2 ms, max %3 ms (%4 runs)")
            .arg(at(0.5), 0, 'f', 2).arg(at(0.99), 0, 'f', 2).arg(ms.back(), 0, 'f', 2).arg(ms.size());
    }
};

void out(const QString &s) {
    std::fputs(qPrintable(s + QLatin1Char('\n')), stdout);
    std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    QCommandLineParser p;
    p.addHelpOption();
    QCommandLineOption devicesO(QStringLiteral("devices"), QStringLiteral("Devices."), QStringLiteral("N"), QStringLiteral("1000"));
    QCommandLineOption fixesO(QStringLiteral("fixes"), QStringLiteral("Fixes per device."), QStringLiteral("N"), QStringLiteral("1000"));
    QCommandLineOption queriesO(QStringLiteral("queries"), QStringLiteral("Track queries to time."), QStringLiteral("N"), QStringLiteral("300"));
    QCommandLineOption dirO(QStringLiteral("dir"), QStringLiteral("Work folder (default: a temporary one)."), QStringLiteral("DIR"));
    QCommandLineOption batchO(QStringLiteral("batch"), QStringLiteral("Items per transaction while filling (the server's group commits are 500-3,000 at 10,000-20,000 fixes/s)."), QStringLiteral("N"), QStringLiteral("5000"));
    QCommandLineOption repliesO(QStringLiteral("replies"), QStringLiteral("Store an ack frame with each fix, as the server does."));
    QCommandLineOption fillOnlyO(QStringLiteral("fill-only"), QStringLiteral("Only fill (no queries)."));
    QCommandLineOption autoCkptO(QStringLiteral("autocheckpoint"), QStringLiteral("WAL pages between automatic checkpoints while filling (SQLite's default: 1000)."), QStringLiteral("N"), QStringLiteral("1000"));
    p.addOptions({devicesO, fixesO, queriesO, dirO, batchO, repliesO, fillOnlyO, autoCkptO});
    p.process(app);
    const int devices = qMax(1, p.value(devicesO).toInt());
    const int fixes = qMax(1, p.value(fixesO).toInt());
    const int queries = qMax(1, p.value(queriesO).toInt());
    const int batchSize = qMax(1, p.value(batchO).toInt());
    const bool replies = p.isSet(repliesO);
    QTemporaryDir tmp(p.isSet(dirO) ? p.value(dirO) + QStringLiteral("/bench_store-XXXXXX") : QString());
    const QString path = tmp.filePath(QStringLiteral("bench.db"));
    const qint64 t0 = 1767225600000;  // 2026-01-01
    const qint64 step = 60000;        // a fix a minute

    out(QStringLiteral("## bench_store: %1 devices x %2 fixes = %3 positions (%4)").arg(devices).arg(fixes).arg(qint64(devices) * fixes).arg(path));
    {
        store::Store s;
        if (!s.open(path)) {
            out(QStringLiteral("cannot open: ") + s.lastError());
            return 1;
        }
        QSqlQuery(s.database()).exec(QStringLiteral("PRAGMA wal_autocheckpoint=%1").arg(p.value(autoCkptO).toInt()));
        QElapsedTimer fill;
        fill.start();
        QList<store::WorkItem> batch;
        QList<store::WorkResult> results;
        for (int i = 0; i < fixes; ++i) {
            for (int d = 0; d < devices; ++d) {
                store::WorkItem w;
                w.kind = store::WorkItem::Inbound;
                w.serverTimeMs = t0 + i * step + d;
                w.deviceKey = QStringLiteral("35%1").arg(d, 13, 10, QLatin1Char('0'));
                w.protocol = QStringLiteral("gt06");
                w.type = 0x22;
                w.bytes = QByteArray(40, char(d));
                proto::Position pos;
                pos.time = QDateTime::fromMSecsSinceEpoch(t0 + i * step, QTimeZone::UTC);
                pos.latitude = 50 + d * 0.001 + i * 1e-5;
                pos.longitude = 5 + i * 1e-5;
                pos.speedKmh = 20;
                pos.course = 90;
                pos.satellites = 9;
                pos.valid = true;
                w.positions = {pos};
                if (replies) {
                    w.replies = {QByteArray::fromHex("78780522000135830d0a")};
                    w.replyTypes = {0x22};
                }
                batch.append(std::move(w));
                if (batch.size() == batchSize) {
                    if (!s.applyBatch(batch, &results)) {
                        out(QStringLiteral("insert failed: ") + s.lastError());
                        return 1;
                    }
                    batch.clear();
                }
            }
        }
        if (!batch.isEmpty() && !s.applyBatch(batch, &results)) {
            out(QStringLiteral("insert failed: ") + s.lastError());
            return 1;
        }
        out(QStringLiteral("filled in %1 s (%2 positions + frames/s through Store::applyBatch)")
                .arg(fill.elapsed() / 1000.0, 0, 'f', 1).arg(qint64(devices) * fixes * 1000 / qMax<qint64>(1, fill.elapsed())));
        out(QStringLiteral("  %1 items per transaction%2").arg(batchSize).arg(replies ? QStringLiteral(", an ack frame stored with each fix") : QString()));
    }
    if (p.isSet(fillOnlyO))
        return 0;

    store::Store s;  // a fresh connection, as a UI or exporter would have
    store::StoreOptions ro;
    ro.readOnly = true;
    if (!s.open(path, ro)) {
        out(QStringLiteral("cannot open: ") + s.lastError());
        return 1;
    }
    out(QStringLiteral("query plan: ") + s.explainTrackQuery());
    const QList<store::Device> devs = s.devices();
    QRandomGenerator rng(7);
    Timing full, window, count;
    qint64 rows = 0;
    for (int q = 0; q < queries; ++q) {
        const qint64 id = devs[rng.bounded(int(devs.size()))].id;
        // The whole track of a device.
        QElapsedTimer t;
        t.start();
        s.forEachPosition({id}, {}, {}, {}, [&](const store::StoredPosition &) { ++rows; return true; });
        full.ms.push_back(t.nsecsElapsed() / 1e6);
        // A window: a quarter of its history somewhere.
        const qint64 from = t0 + qint64(rng.bounded(fixes * 3 / 4 + 1)) * step;
        const qint64 to = from + qint64(fixes / 4) * step;
        t.restart();
        s.forEachPosition({id}, QDateTime::fromMSecsSinceEpoch(from, QTimeZone::UTC), QDateTime::fromMSecsSinceEpoch(to, QTimeZone::UTC), {},
                          [&](const store::StoredPosition &) { ++rows; return true; });
        window.ms.push_back(t.nsecsElapsed() / 1e6);
        t.restart();
        s.countPositions({id}, QDateTime::fromMSecsSinceEpoch(from, QTimeZone::UTC), QDateTime::fromMSecsSinceEpoch(to, QTimeZone::UTC));
        count.ms.push_back(t.nsecsElapsed() / 1e6);
    }
    out(QStringLiteral("track of one device, all %1 fixes:      %2").arg(fixes).arg(full.text()));
    out(QStringLiteral("track of one device, a %1-fix window:   %2").arg(fixes / 4).arg(window.text()));
    out(QStringLiteral("count of one device's fixes in a window: %1").arg(count.text()));
    Timing last, frames;
    for (int i = 0; i < 10; ++i) {
        QElapsedTimer t;
        t.start();
        const auto lp = s.lastPositions();
        last.ms.push_back(t.nsecsElapsed() / 1e6);
        if (lp.size() != devs.size())
            out(QStringLiteral("unexpected: %1 last positions for %2 devices").arg(lp.size()).arg(devs.size()));
        store::FrameFilter ff;
        ff.deviceId = devs[rng.bounded(int(devs.size()))].id;
        ff.limit = 500;
        ff.newestFirst = true;
        t.restart();
        s.frames(ff);
        frames.ms.push_back(t.nsecsElapsed() / 1e6);
    }
    out(QStringLiteral("last fix of every device (%1):     %2").arg(devs.size()).arg(last.text()));
    out(QStringLiteral("newest 500 frames of one device:        %1").arg(frames.text()));
    out(QStringLiteral("(%1 rows streamed in total)").arg(rows));
    return 0;
}
