#include "widgets/framedetail.h"

#include "widgets/hexview.h"

#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace td::ui {

namespace {
constexpr int OffsetRole = Qt::UserRole + 1;
constexpr int LengthRole = Qt::UserRole + 2;

void addField(QTreeWidgetItem *parentItem, QTreeWidget *tree, const proto::Field &f) {
    auto *item = parentItem ? new QTreeWidgetItem(parentItem) : new QTreeWidgetItem(tree);
    item->setText(0, f.name);
    item->setText(1, f.value);
    item->setText(2, QStringLiteral("%1").arg(f.offset));
    item->setText(3, QStringLiteral("%1").arg(f.length));
    item->setData(0, OffsetRole, f.offset);
    item->setData(0, LengthRole, f.length);
    if (!f.warning.isEmpty()) {
        item->setIcon(0, tree->style()->standardIcon(QStyle::SP_MessageBoxWarning));
        item->setToolTip(0, f.warning);
        item->setToolTip(1, f.warning);
        item->setForeground(1, QColor(0xb0, 0x30, 0x00));
        item->setText(1, f.value + QStringLiteral("  [%1]").arg(f.warning));
    }
    for (const proto::Field &c : f.children)
        addField(item, tree, c);
}
} // namespace

FrameDetailView::FrameDetailView(QWidget *parent) : QWidget(parent) {
    m_header = new QLabel(this);
    m_header->setWordWrap(true);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_tree = new QTreeWidget(this);
    m_tree->setHeaderLabels({tr("Field"), tr("Value"), tr("Offset"), tr("Length")});
    m_tree->setUniformRowHeights(true);
    m_tree->setMouseTracking(true);
    m_tree->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_tree->header()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    m_tree->header()->setSectionResizeMode(3, QHeaderView::ResizeToContents);
    m_hex = new HexView(this);

    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_tree);
    split->addWidget(m_hex);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    auto *lay = new QVBoxLayout(this);
    lay->setContentsMargins(0, 0, 0, 0);
    lay->addWidget(m_header);
    lay->addWidget(split, 1);

    connect(m_tree, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem *cur) {
        if (!cur) {
            m_hex->setHighlight(0, 0);
            return;
        }
        const int off = cur->data(0, OffsetRole).toInt(), len = cur->data(0, LengthRole).toInt();
        m_hex->setHighlight(off, len);
        emit fieldSelected(off, len);
    });
    connect(m_tree, &QTreeWidget::itemEntered, this, [this](QTreeWidgetItem *it) {
        m_hex->setHoverHighlight(it->data(0, OffsetRole).toInt(), it->data(0, LengthRole).toInt());
    });
    connect(m_hex, &HexView::byteClicked, this, &FrameDetailView::onByteClicked);
    connect(m_hex, &HexView::byteHovered, this, [this](int off) {
        if (off < 0) { m_hex->setHoverHighlight(0, 0); return; }
        QTreeWidgetItem *it = itemForPath(proto::fieldPathAt(m_frame.fields, off));
        m_hex->setHoverHighlight(it ? it->data(0, OffsetRole).toInt() : 0, it ? it->data(0, LengthRole).toInt() : 0);
    });
    clear();
}

void FrameDetailView::clear() {
    m_frame = {};
    m_tree->clear();
    m_hex->setData({});
    m_header->setText(tr("Select a frame, or paste hex in the decode box, to see its fields and bytes."));
}

void FrameDetailView::setFrame(const proto::DecodedFrame &frame) {
    m_frame = frame;
    m_tree->clear();
    for (const proto::Field &f : frame.fields)
        addField(nullptr, m_tree, f);
    m_tree->expandToDepth(0);
    m_hex->setData(frame.bytes);
    QString head = QStringLiteral("<b>%1 %2</b>%3, %4 bytes")
                       .arg(frame.protocol.toUpper().toHtmlEscaped(), frame.typeName.toHtmlEscaped(),
                            frame.type >= 0 ? QStringLiteral(" (%1)").arg(proto::typeIdText(frame.type)) : QString())
                       .arg(frame.bytes.size());
    if (!frame.summary.isEmpty())
        head += QStringLiteral(" — ") + frame.summary.toHtmlEscaped();
    for (const QString &w : frame.warnings)
        head += QStringLiteral("<br><span style='color:#b03000'>⚠ %1</span>").arg(w.toHtmlEscaped());
    for (const QByteArray &r : frame.replies)
        head += QStringLiteral("<br>Reply: <tt>%1</tt>").arg(proto::toHex(r, ' '));
    m_header->setText(head);
}

QTreeWidgetItem *FrameDetailView::itemForPath(const QList<int> &path) const {
    QTreeWidgetItem *it = nullptr;
    for (int idx : path) {
        QTreeWidgetItem *next = it ? it->child(idx) : m_tree->topLevelItem(idx);
        if (!next)
            break;
        it = next;
    }
    return it;
}

void FrameDetailView::selectFieldPath(const QList<int> &path) {
    if (QTreeWidgetItem *it = itemForPath(path)) {
        for (QTreeWidgetItem *p = it->parent(); p; p = p->parent())
            p->setExpanded(true);
        m_tree->setCurrentItem(it);
        m_tree->scrollToItem(it);
    }
}

QList<int> FrameDetailView::selectedFieldPath() const {
    QList<int> path;
    for (QTreeWidgetItem *it = m_tree->currentItem(); it; it = it->parent())
        path.prepend(it->parent() ? it->parent()->indexOfChild(it) : m_tree->indexOfTopLevelItem(it));
    return path;
}

void FrameDetailView::onByteClicked(int offset) { selectFieldPath(proto::fieldPathAt(m_frame.fields, offset)); }

} // namespace td::ui
