#include "server/delayhistogram.h"

#include <algorithm>

namespace td::server {

// Values below 16 have a bucket each; above, bucket = the power of two and the next 4 bits.
int DelayHistogram::bucketOf(std::uint64_t ns) {
    if (ns < kSub)
        return int(ns);
    int e = 63;
    while (!(ns >> e))
        --e;  // e = floor(log2(ns)) >= 4
    const int b = (e - 3) * kSub + int(ns >> (e - 4)) - kSub;
    return std::min(b, kSub * kPowers - 1);
}

std::int64_t DelayHistogram::upperEdge(int bucket) {
    if (bucket < kSub)
        return bucket;
    const int e = bucket / kSub + 3;
    const std::int64_t m = bucket % kSub + kSub;
    return ((m + 1) << (e - 4)) - 1;
}

void DelayHistogram::record(std::int64_t ns) {
    if (ns < 0)
        ns = 0;
    ++m_buckets[size_t(bucketOf(std::uint64_t(ns)))];
    ++m_count;
    m_max = std::max(m_max, ns);
}

void DelayHistogram::clear() {
    m_buckets.fill(0);
    m_count = 0;
    m_max = 0;
}

std::int64_t DelayHistogram::percentileNs(double q) const {
    if (m_count == 0)
        return 0;
    q = std::clamp(q, 0.0, 1.0);
    // The rank of the sample (1-based) that the percentile names.
    const std::int64_t rank = std::max<std::int64_t>(1, std::int64_t(q * double(m_count) + 0.999999));
    std::int64_t seen = 0;
    for (int b = 0; b < int(m_buckets.size()); ++b) {
        seen += m_buckets[size_t(b)];
        if (seen >= rank)
            return std::min(upperEdge(b), m_max);
    }
    return m_max;
}

QString DelayHistogram::text(const QString &what) const {
    if (m_count == 0)
        return QStringLiteral("no %1").arg(what);
    auto ms = [](std::int64_t ns) { return QString::number(double(ns) / 1e6, 'f', 2); };
    return QStringLiteral("%1 %2, p50 %3 ms, p90 %4 ms, p99 %5 ms, max %6 ms")
        .arg(m_count)
        .arg(what, ms(percentileNs(0.50)), ms(percentileNs(0.90)), ms(percentileNs(0.99)), ms(m_max));
}

} // namespace td::server
