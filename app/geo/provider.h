// A geolocation provider: turns a GeoQuery into a position or a classified error. The
// resolver tries its providers in the order the user chose (settings geo/providers).
// Providers live on the resolver's thread and are used from there only.
#pragma once

#include "geo/geotypes.h"

#include <QString>
#include <functional>

namespace td::geo {

class GeoProvider {
public:
    using Done = std::function<void(const GeoResult &)>;
    virtual ~GeoProvider() = default;
    virtual QString id() const = 0;              // "web", "offline" (settings, logs)
    virtual QString displayName() const = 0;
    // True: each resolve() is a paid/limited request (daily budget, rate limit).
    virtual bool usesNetwork() const = 0;
    // Whether it can try this query now; false with *why (configuration, missing data).
    virtual bool canResolve(const GeoQuery &query, QString *why) const = 0;
    // Starts resolving. `done` is called exactly once, possibly before resolve() returns,
    // unless the provider is destroyed first (then never).
    virtual void resolve(const GeoQuery &query, Done done) = 0;
};

} // namespace td::geo
