#include "docks/devicesdock.h"

#include <QApplication>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QPainter>
#include <QPushButton>
#include <QStyledItemDelegate>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>

namespace td::ui {

namespace {
// Paints the colour swatch before the name, battery and signal as small bar icons.
class DeviceDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter *p, const QStyleOptionViewItem &opt, const QModelIndex &idx) const override {
        QStyleOptionViewItem o(opt);
        initStyleOption(&o, idx);
        const int col = idx.column();
        if (col == DeviceListModel::Name || col == DeviceListModel::Battery || col == DeviceListModel::Signal) {
            const QString text = o.text;
            o.text.clear();
            o.icon = QIcon();
            // background/selection only; the swatch/bars and the text are drawn below
            o.widget ? o.widget->style()->drawControl(QStyle::CE_ItemViewItem, &o, p, o.widget)
                     : QApplication::style()->drawControl(QStyle::CE_ItemViewItem, &o, p);
            o.text = text;
            QRect r = o.rect.adjusted(4, 3, -2, -3);
            p->save();
            p->setRenderHint(QPainter::Antialiasing);
            if (col == DeviceListModel::Name) {
                p->setBrush(QColor(idx.data(DeviceListModel::ColorRole).toString()));
                p->setPen(Qt::NoPen);
                const int d = r.height() - 2;
                p->drawEllipse(QRect(r.left(), r.top() + 1, d, d));
                r.setLeft(r.left() + d + 6);
            } else {
                const int value = idx.data(col == DeviceListModel::Battery ? DeviceListModel::BatteryRole : DeviceListModel::SignalRole).toInt();
                if (value >= 0) {
                    const int bars = col == DeviceListModel::Battery ? qBound(0, (value + 12) / 25, 4) : qBound(0, value > 4 ? value * 4 / 31 : value, 4);
                    const QColor on = col == DeviceListModel::Battery && value <= 20 ? QColor(0xc0, 0x30, 0x20) : QColor(0x30, 0x90, 0x40);
                    for (int i = 0; i < 4; ++i) {
                        const int h = col == DeviceListModel::Signal ? (r.height() * (i + 1)) / 4 : r.height();
                        p->fillRect(QRect(r.left() + i * 5, r.bottom() - h + 1, 4, h), i < bars ? on : QColor(0xcc, 0xcc, 0xcc));
                    }
                    r.setLeft(r.left() + 24);
                }
            }
            p->setPen(o.palette.color(o.state & QStyle::State_Selected ? QPalette::HighlightedText : QPalette::Text));
            QFont f = o.font;
            if (col == DeviceListModel::Name && idx.data(DeviceListModel::IsNewRole).toBool())
                f.setBold(true);  // new devices stand out until named
            p->setFont(f);
            p->drawText(r, Qt::AlignVCenter | Qt::AlignLeft, QFontMetrics(f).elidedText(o.text, Qt::ElideRight, r.width()));
            p->restore();
            return;
        }
        QStyledItemDelegate::paint(p, opt, idx);
    }
    // Room for what paint() adds: the swatch or the bars, the margins, a bold name.
    QSize sizeHint(const QStyleOptionViewItem &opt, const QModelIndex &idx) const override {
        QSize s = QStyledItemDelegate::sizeHint(opt, idx);
        const int col = idx.column();
        if (col != DeviceListModel::Name && col != DeviceListModel::Battery && col != DeviceListModel::Signal)
            return s;
        QStyleOptionViewItem o(opt);
        initStyleOption(&o, idx);
        QFont f = o.font;
        if (col == DeviceListModel::Name && idx.data(DeviceListModel::IsNewRole).toBool())
            f.setBold(true);
        const int text = QFontMetrics(f).horizontalAdvance(o.text);
        const int mark = col == DeviceListModel::Name ? s.height() - 6 - 2 + 6 : 24;   // swatch + gap, or 4 bars
        s.setWidth(std::max(s.width(), 4 + mark + text + 2 + 4));
        return s;
    }
};
} // namespace

DevicesPane::DevicesPane(DeviceListModel *model, QWidget *parent) : QWidget(parent), m_model(model) {
    m_view = new QTreeView(this);
    m_view->setObjectName(QStringLiteral("deviceList"));
    m_view->setModel(model);
    m_view->setRootIsDecorated(false);
    m_view->setAlternatingRowColors(true);
    m_view->setItemDelegate(new DeviceDelegate(m_view));
    m_view->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    m_view->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    // What one looks for at a glance first (name, state, last fix, battery, signal), the ids
    // after them: in the default dock width the state and the last fix are visible.
    for (int column : {DeviceListModel::Imei, DeviceListModel::Protocol})
        m_view->header()->moveSection(m_view->header()->visualIndex(column), m_view->header()->count() - 1);
    connect(m_view, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        const QModelIndex idx = m_view->indexAt(pos);
        if (!idx.isValid())
            return;
        const qint64 id = idx.data(DeviceListModel::DeviceIdRole).toLongLong();
        const bool blocked = idx.data(DeviceListModel::BlockedRole).toBool();
        QMenu menu(this);
        menu.addAction(tr("Rename"), this, [this, idx] { m_view->edit(idx.siblingAtColumn(DeviceListModel::Name)); });
        menu.addAction(tr("Properties…"), this, [this, id] { emit editRequested(id); });
        menu.addSeparator();
        menu.addAction(tr("Center on map"), this, [this, id] { emit centerRequested(id); });
        menu.addAction(tr("Follow on map"), this, [this, id] { emit followRequested(id); });
        menu.addAction(tr("Show today's track"), this, [this, id] {
            m_range->setCurrentIndex(0);
            QDateTime f, t;
            historyRange(&f, &t);
            showPresetRange();
            emit showHistory(id, f, t);
        });
        menu.addSeparator();
        menu.addAction(blocked ? tr("Unblock (accept its data again)") : tr("Block (refuse and store nothing)"), this,
                       [this, id, blocked] { emit blockRequested(id, !blocked); });
        menu.exec(m_view->viewport()->mapToGlobal(pos));
    });
    connect(m_view, &QTreeView::activated, this, [this](const QModelIndex &idx) {
        if (idx.column() != DeviceListModel::Name)
            emit centerRequested(idx.data(DeviceListModel::DeviceIdRole).toLongLong());
    });

    // ---- history ----
    auto *box = new QGroupBox(tr("History of the selected device"), this);
    m_range = new QComboBox(box);
    m_range->setObjectName(QStringLiteral("historyRange"));
    m_range->addItems({tr("Today"), tr("Last 24 hours"), tr("Custom")});
    m_from = new QDateTimeEdit(QDateTime::currentDateTime().addDays(-1), box);
    m_to = new QDateTimeEdit(QDateTime::currentDateTime(), box);
    m_from->setObjectName(QStringLiteral("historyFrom"));
    m_to->setObjectName(QStringLiteral("historyTo"));
    m_from->setCalendarPopup(true);
    m_to->setCalendarPopup(true);
    m_from->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm"));
    m_to->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm"));
    auto *show = new QPushButton(tr("Show track"), box);
    show->setObjectName(QStringLiteral("showTrack"));
    auto *clear = new QPushButton(tr("Clear"), box);
    m_historyInfo = new QLabel(box);
    m_historyInfo->setWordWrap(true);
    auto *form = new QFormLayout(box);
    form->addRow(tr("Range"), m_range);
    form->addRow(tr("From"), m_from);
    form->addRow(tr("To"), m_to);
    auto *row = new QHBoxLayout;
    row->addWidget(show);
    row->addWidget(clear);
    form->addRow(row);
    form->addRow(m_historyInfo);
    // The From/To fields always show the range a track is loaded for: editable for Custom,
    // filled in (and greyed) by the presets (they showed the last 24 hours for "Today").
    auto customOnly = [this] {
        const bool custom = m_range->currentIndex() == 2;
        m_from->setEnabled(custom);
        m_to->setEnabled(custom);
        showPresetRange();
    };
    connect(m_range, &QComboBox::currentIndexChanged, this, customOnly);
    customOnly();
    connect(show, &QPushButton::clicked, this, [this] {
        const qint64 id = currentDeviceId();
        if (id <= 0) {
            setHistoryInfo(tr("Select a device in the list first."));
            return;
        }
        QDateTime f, t;
        historyRange(&f, &t);
        showPresetRange();
        emit showHistory(id, f, t);
    });
    connect(clear, &QPushButton::clicked, this, &DevicesPane::clearHistory);

    // ---- refused devices (allowlist mode): accept them into the list ----
    m_refusedBox = new QGroupBox(tr("Refused devices (not in the list)"), this);
    m_refused = new QListWidget(m_refusedBox);
    m_refused->setObjectName(QStringLiteral("refusedDevices"));
    m_refused->setMaximumHeight(90);
    auto *accept = new QPushButton(tr("Accept selected"), m_refusedBox);
    auto *dismiss = new QPushButton(tr("Dismiss"), m_refusedBox);
    auto *rl = new QVBoxLayout(m_refusedBox);
    rl->addWidget(m_refused);
    auto *rb = new QHBoxLayout;
    rb->addWidget(accept);
    rb->addWidget(dismiss);
    rl->addLayout(rb);
    m_refusedBox->hide();
    connect(accept, &QPushButton::clicked, this, [this] {
        if (QListWidgetItem *it = m_refused->currentItem())
            emit acceptRequested(it->data(Qt::UserRole).toString());
    });
    connect(dismiss, &QPushButton::clicked, this, [this] {
        if (QListWidgetItem *it = m_refused->currentItem())
            removeRefused(it->data(Qt::UserRole).toString());
    });

    auto *lay = new QVBoxLayout(this);
    lay->setContentsMargins(2, 2, 2, 2);
    lay->addWidget(m_view, 1);
    lay->addWidget(m_refusedBox);
    lay->addWidget(box);
}

void DevicesPane::addRefused(const QString &imei, const QString &peer, const QString &reason) {
    const QString text = tr("%1 from %2 (%3)").arg(imei, peer, reason);
    for (int i = 0; i < m_refused->count(); ++i)
        if (m_refused->item(i)->data(Qt::UserRole).toString() == imei) {
            m_refused->item(i)->setText(text);
            return;
        }
    auto *it = new QListWidgetItem(text, m_refused);
    it->setData(Qt::UserRole, imei);
    if (!m_refused->currentItem())
        m_refused->setCurrentItem(it);
    m_refusedBox->show();
}

void DevicesPane::removeRefused(const QString &imei) {
    for (int i = m_refused->count() - 1; i >= 0; --i)
        if (m_refused->item(i)->data(Qt::UserRole).toString() == imei)
            delete m_refused->takeItem(i);
    m_refusedBox->setVisible(m_refused->count() > 0);
}

qint64 DevicesPane::currentDeviceId() const {
    const QModelIndex idx = m_view->currentIndex();
    return idx.isValid() ? idx.data(DeviceListModel::DeviceIdRole).toLongLong() : 0;
}

void DevicesPane::selectDevice(qint64 id) {
    const int row = m_model->rowOfDevice(id);
    if (row >= 0)
        m_view->setCurrentIndex(m_model->index(row, 0));
}

void DevicesPane::setHistoryRangeIndex(int index) { m_range->setCurrentIndex(index); }

void DevicesPane::historyRange(QDateTime *from, QDateTime *to) const {
    const QDateTime now = QDateTime::currentDateTime();
    switch (m_range->currentIndex()) {
    case 0: *from = QDateTime(now.date(), QTime(0, 0)); *to = now; break;
    case 1: *from = now.addDays(-1); *to = now; break;
    default: *from = m_from->dateTime(); *to = m_to->dateTime(); break;
    }
    *from = from->toUTC();
    *to = to->toUTC();
}

void DevicesPane::showPresetRange() {
    if (m_range->currentIndex() == 2)
        return;
    QDateTime from, to;
    historyRange(&from, &to);
    m_from->setDateTime(from.toLocalTime());
    m_to->setDateTime(to.toLocalTime());
}

void DevicesPane::setHistoryInfo(const QString &text) { m_historyInfo->setText(text); }

} // namespace td::ui
