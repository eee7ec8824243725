// A bounded histogram of delays (HdrHistogram-style buckets: 16 per power of two, so a
// percentile is off by at most 1/16 of its value), for figures a long-running server keeps
// without keeping the samples: the server's ack delay (frame read -> ack written).
#pragma once

#include <QString>
#include <array>
#include <cstdint>

namespace td::server {

class DelayHistogram {
public:
    // Records one delay in nanoseconds (negative counts as 0; beyond ~2.4 hours in the top
    // bucket, the maximum stays exact).
    void record(std::int64_t ns);
    void clear();

    std::int64_t count() const { return m_count; }
    std::int64_t maxNs() const { return m_max; }
    // The delay below which a fraction `q` (0..1) of the samples lie: the upper edge of the
    // bucket holding that sample, capped at the largest recorded. 0 when empty.
    std::int64_t percentileNs(double q) const;
    // "N acks, p50 1.2 ms, p90 ..., p99 ..., max ..." (or "no acks" when empty).
    QString text(const QString &what) const;

private:
    static constexpr int kSub = 16;                 // buckets per power of two
    static constexpr int kPowers = 40;              // exact below 16 ns, then 2^4 .. 2^43 ns
    static int bucketOf(std::uint64_t ns);
    static std::int64_t upperEdge(int bucket);
    std::array<std::int64_t, kSub * kPowers> m_buckets{};
    std::int64_t m_count = 0;
    std::int64_t m_max = 0;
};

} // namespace td::server
