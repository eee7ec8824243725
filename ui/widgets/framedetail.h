// Field tree + hex view of one decoded frame, linked both ways by offsets (Wireshark's
// packet details / packet bytes panes): selecting or hovering a field highlights its
// bytes; clicking a byte selects the innermost field that covers it.
#pragma once

#include "trackerdesk/protocol/frame.h"

#include <QWidget>

class QTreeWidget;
class QTreeWidgetItem;
class QLabel;
class QSplitter;

namespace td::ui {

class HexView;

class FrameDetailView : public QWidget {
    Q_OBJECT
public:
    explicit FrameDetailView(QWidget *parent = nullptr);

    void setFrame(const proto::DecodedFrame &frame);
    void clear();
    const proto::DecodedFrame &frame() const { return m_frame; }

    QTreeWidget *tree() const { return m_tree; }
    HexView *hexView() const { return m_hex; }
    // Selects the field at this path of child indexes (from the top level).
    void selectFieldPath(const QList<int> &path);
    QList<int> selectedFieldPath() const;
    // The fields as indented text (for "Copy as field text").
    QString fieldText() const { return proto::formatFieldTree(m_frame); }

signals:
    void fieldSelected(int offset, int length);

private:
    void onByteClicked(int offset);
    QTreeWidgetItem *itemForPath(const QList<int> &path) const;

    proto::DecodedFrame m_frame;
    QLabel *m_header;
    QTreeWidget *m_tree;
    HexView *m_hex;
};

} // namespace td::ui
