// bench_geoimport: importing an OpenCelliD-format cells file and looking cells up offline.
// Writes a synthetic file of N cells (OpenCelliD columns, realistic value ranges), imports it
// with importGeoFile (as `trackerdesk geo import-cells` and the settings page do), and prints
// rows/s, the time between two batch commits, the longest write transaction (how long the
// tracker writer sharing the database may have to wait), the database growth,
// then times offline lookups of 3 random cells (OfflineCellProvider) on the result.
//   bench_geoimport [--rows N] [--batch N] [--lookups N] [--dir DIR]
#include "geo/cellimport.h"
#include "geo/geostore.h"
#include "geo/offlinecellprovider.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace td;

namespace {

void out(const QString &s) {
    std::fputs(qPrintable(s + QLatin1Char('\n')), stdout);
    std::fflush(stdout);
}

QString percentiles(std::vector<double> ms) {
    if (ms.empty())
        return QStringLiteral("-");
    std::sort(ms.begin(), ms.end());
    auto at = [&ms](double q) { return ms[std::min(ms.size() - 1, size_t(q * double(ms.size() - 1) + 0.5))]; };
    return QStringLiteral("p50 %1 ms, p99 %2 ms, max %3 ms (%4)").arg(at(0.5), 0, 'f', 3).arg(at(0.99), 0, 'f', 3)
        .arg(ms.back(), 0, 'f', 3).arg(ms.size());
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    QCommandLineParser p;
    p.addHelpOption();
    QCommandLineOption rowsOpt(QStringLiteral("rows"), QStringLiteral("Cells in the file (default 1000000)."), QStringLiteral("N"), QStringLiteral("1000000"));
    QCommandLineOption batchOpt(QStringLiteral("batch"), QStringLiteral("Rows per transaction (default 5000)."), QStringLiteral("N"), QStringLiteral("5000"));
    QCommandLineOption lookupsOpt(QStringLiteral("lookups"), QStringLiteral("Offline lookups (default 10000)."), QStringLiteral("N"), QStringLiteral("10000"));
    QCommandLineOption dirOpt(QStringLiteral("dir"), QStringLiteral("Work folder (default: a temporary one)."), QStringLiteral("DIR"));
    p.addOptions({rowsOpt, batchOpt, lookupsOpt, dirOpt});
    p.process(app);
    const int rows = p.value(rowsOpt).toInt();
    const int lookups = p.value(lookupsOpt).toInt();
    QTemporaryDir tmp;
    const QString dir = p.isSet(dirOpt) ? p.value(dirOpt) : tmp.path();
    const QString csv = dir + QStringLiteral("/cells.csv");
    const QString db = dir + QStringLiteral("/trackerdesk.db");
    QFile::remove(db);

    // 1. the file: LAC blocks of 200 cells around random places
    QRandomGenerator rng(42);
    {
        QFile f(csv);
        if (!f.open(QIODevice::WriteOnly)) {
            out(QStringLiteral("cannot write %1").arg(csv));
            return 1;
        }
        f.write("radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n");
        QByteArray line;
        double lat = 0, lon = 0;
        for (int i = 0; i < rows; ++i) {
            if (i % 200 == 0) {
                lat = -60.0 + rng.bounded(130.0);
                lon = -180.0 + rng.bounded(359.9);
            }
            line = (i % 3 ? QByteArrayLiteral("GSM,") : QByteArrayLiteral("LTE,")) + "262,2," + QByteArray::number(i / 200) + ','
                   + QByteArray::number(i % 200 + 1000) + ",," + QByteArray::number(lon + rng.bounded(0.05), 'f', 6) + ','
                   + QByteArray::number(lat + rng.bounded(0.05), 'f', 6) + ',' + QByteArray::number(300 + rng.bounded(5000)) + ','
                   + QByteArray::number(1 + rng.bounded(200)) + ",1,1459813000,1700000000,0\n";
            f.write(line);
        }
    }
    const qint64 fileSize = QFileInfo(csv).size();

    // 2. the import
    geo::GeoStore store;
    QString err;
    if (!store.open(db, &err)) {
        out(err);
        return 1;
    }
    const qint64 dbBefore = QFileInfo(db).size();
    std::vector<double> between;
    QElapsedTimer clock, step;
    geo::ImportOptions o;
    o.batchRows = p.value(batchOpt).toInt();
    clock.start();
    step.start();
    const geo::ImportReport rep = geo::importGeoFile(store, csv, nullptr, [&](qint64, qint64, qint64 lines) {
        if (lines > 0)
            between.push_back(double(step.nsecsElapsed()) / 1e6);
        step.restart();
    }, o);
    const double secs = double(clock.nsecsElapsed()) / 1e9;
    if (!rep.error.isEmpty()) {
        out(rep.summary());
        return 1;
    }
    out(QStringLiteral("import: %1 rows (%2 MB) in %3 s = %4 rows/s; a batch of %5 rows every %6; "
                       "write lock held at most %7 ms per batch")
            .arg(rep.cells).arg(fileSize / 1e6, 0, 'f', 1).arg(secs, 0, 'f', 2).arg(double(rep.cells) / secs, 0, 'f', 0)
            .arg(o.batchRows).arg(percentiles(between)).arg(rep.lockHeldMaxMs));
    out(QStringLiteral("database: +%1 MB (%2 bytes per cell)")
            .arg((QFileInfo(db).size() - dbBefore) / 1e6, 0, 'f', 1)
            .arg(double(QFileInfo(db).size() - dbBefore) / std::max<qint64>(1, rep.cells), 0, 'f', 0));

    // 3. lookups: records with 3 cells of one area (and one unknown cell)
    geo::OfflineCellProvider provider(&store);
    std::vector<double> ms;
    int found = 0;
    for (int i = 0; i < lookups; ++i) {
        const int area = int(rng.bounded(qMax(1, rows / 200)));
        geo::GeoQuery q;
        for (int k = 0; k < 3; ++k) {
            proto::CellTower c;
            c.mcc = 262;
            c.mnc = 2;
            c.lac = area;
            c.cellId = 1000 + rng.bounded(200);
            q.cells << c;
        }
        proto::CellTower unknown;
        unknown.mcc = 262;
        unknown.mnc = 2;
        unknown.lac = 99999999;
        unknown.cellId = 1;
        q.cells << unknown;
        QElapsedTimer t;
        t.start();
        provider.resolve(q, [&found](const geo::GeoResult &r) { found += r.ok(); });
        ms.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    out(QStringLiteral("offline lookup (4 cells, 3 known): %1; %2 of %3 found").arg(percentiles(ms)).arg(found).arg(lookups));
    return 0;
}
