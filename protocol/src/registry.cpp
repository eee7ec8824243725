#include "trackerdesk/protocol/protocol.h"

namespace td::proto {

// One line per protocol, in sniffing order. Each protocol's file pair defines its accessor.
const Protocol &gt06Protocol();
const Protocol &jt808Protocol();

const QList<const Protocol *> &protocols() {
    static const QList<const Protocol *> all = {
        &gt06Protocol(),
        &jt808Protocol(),
    };
    return all;
}

const Protocol *protocolById(const QString &id) {
    for (const Protocol *p : protocols())
        if (p->id().compare(id, Qt::CaseInsensitive) == 0)
            return p;
    return nullptr;
}

const Protocol *sniffProtocol(const QByteArray &head, bool *needMore) {
    bool more = false;
    for (const Protocol *p : protocols()) {
        switch (p->sniff(head)) {
        case Sniff::Yes:
            if (needMore) *needMore = false;
            return p;
        case Sniff::NeedMore:
            more = true;
            break;
        case Sniff::No:
            break;
        }
    }
    if (needMore) *needMore = more;
    return nullptr;
}

} // namespace td::proto
