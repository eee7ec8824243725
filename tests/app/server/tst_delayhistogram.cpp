// The server's bounded delay histogram: percentiles within its stated resolution (1/16 of
// the value), exact maximum, empty and out-of-range input.
#include "server/delayhistogram.h"

#include <QtTest>
#include <random>

using td::server::DelayHistogram;

class TestDelayHistogram : public QObject {
    Q_OBJECT
private slots:
    void empty();
    void smallValuesAreExact();
    void percentilesWithinResolution();
    void outOfRange();
    void clear();
};

void TestDelayHistogram::empty() {
    DelayHistogram h;
    QCOMPARE(h.count(), 0);
    QCOMPARE(h.percentileNs(0.99), 0);
    QCOMPARE(h.text(QStringLiteral("acks")), QStringLiteral("no acks"));
}

void TestDelayHistogram::smallValuesAreExact() {
    DelayHistogram h;
    for (int v : {3, 1, 2, 15, 7})
        h.record(v);
    QCOMPARE(h.percentileNs(0.0), 1);
    QCOMPARE(h.percentileNs(0.5), 3);   // 3rd of 5 samples
    QCOMPARE(h.percentileNs(1.0), 15);
    QCOMPARE(h.maxNs(), 15);
}

void TestDelayHistogram::percentilesWithinResolution() {
    // 100,000 delays spread from 1 us to 2 s (log-uniform, as ack delays are), compared with
    // the exact percentiles of the same samples.
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> u(std::log(1e3), std::log(2e9));
    std::vector<qint64> samples;
    DelayHistogram h;
    for (int i = 0; i < 100000; ++i) {
        const qint64 ns = qint64(std::exp(u(rng)));
        samples.push_back(ns);
        h.record(ns);
    }
    std::sort(samples.begin(), samples.end());
    QCOMPARE(h.count(), 100000);
    QCOMPARE(h.maxNs(), samples.back());
    for (double q : {0.01, 0.5, 0.9, 0.99, 0.999}) {
        const qint64 exact = samples[size_t(q * samples.size()) - 1];
        const qint64 got = h.percentileNs(q);
        // The bucket's upper edge: never below the exact value, at most 1/16 above it.
        QVERIFY2(got >= exact && got <= exact + exact / 16 + 1,
                 qPrintable(QStringLiteral("q %1: %2 ns, exact %3 ns").arg(q).arg(got).arg(exact)));
    }
    const QString t = h.text(QStringLiteral("acks"));
    QVERIFY2(t.startsWith(QLatin1String("100000 acks, p50 ")) && t.contains(QLatin1String(" ms, max ")), qPrintable(t));
}

void TestDelayHistogram::outOfRange() {
    DelayHistogram h;
    h.record(-5);                          // a clock step: counted as 0
    h.record(qint64(3600) * 1000000000);   // an hour: in the top bucket, max exact
    QCOMPARE(h.count(), 2);
    QCOMPARE(h.percentileNs(0.5), 0);
    QCOMPARE(h.percentileNs(1.0), qint64(3600) * 1000000000);
    QCOMPARE(h.maxNs(), qint64(3600) * 1000000000);
}

void TestDelayHistogram::clear() {
    DelayHistogram h;
    h.record(1000);
    h.clear();
    QCOMPARE(h.count(), 0);
    QCOMPARE(h.maxNs(), 0);
    QCOMPARE(h.percentileNs(0.5), 0);
}

QTEST_APPLESS_MAIN(TestDelayHistogram)
#include "tst_delayhistogram.moc"
