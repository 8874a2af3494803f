"""The library tree on the left of the main window: documents, then memories.

The view shows plain row objects (`DocumentRow`, `MemoryRow`, in `app.ui.library_rows`) that the
controller builds from the library; it never queries the database itself. User actions leave as signals carrying an id or a
memory name, so the same view works in tests with hand-made rows.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from app.ui.library_rows import STATUS_TEXT, DocumentRow, MemoryRow
from app.ui.resources import icon, kind_icon
from app.ui.widgets import fmt_size, fmt_tokens

KIND_ROLE = Qt.ItemDataRole.UserRole  # "document" | "memory" | "group"
SORT_ROLE = Qt.ItemDataRole.UserRole + 3  # a number to sort by (size, progress), else the text
FILTER_ROLE = Qt.ItemDataRole.UserRole + 4  # a document's (kind, memorized) for the kind filter
KEY_ROLE = Qt.ItemDataRole.UserRole + 1  # document id (int) or memory name (str)
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 2  # float 0..1 while work runs, else None

COLUMNS = ["Title", "Author", "Size", "Memory", "Progress"]
COL_TITLE, COL_AUTHOR, COL_SIZE, COL_STATUS, COL_PROGRESS = range(5)

class ProgressDelegate(QStyledItemDelegate):
    """Paints a progress bar in the Progress column for rows with running work."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        value = index.data(PROGRESS_ROLE)
        if value is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = int(value * 1000)
        bar.text = f"{value * 100:.0f}%"
        bar.textVisible = True
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)


class SortItem(QTreeWidgetItem):
    """Sorts by SORT_ROLE when set (sizes, progress), else by the text; groups keep their order."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        tree = self.treeWidget()
        col = tree.sortColumn() if tree is not None else 0
        if self.data(0, KIND_ROLE) == "group":  # Documents above Memories, either direction
            ascending = tree is None or tree.header().sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
            mine, theirs = self.data(0, KEY_ROLE) or 0, other.data(0, KEY_ROLE) or 0
            return mine < theirs if ascending else mine > theirs
        a, b = self.data(col, SORT_ROLE), other.data(col, SORT_ROLE)
        if a is not None or b is not None:
            return (a if a is not None else -1) < (b if b is not None else -1)
        return self.text(col).casefold() < other.text(col).casefold()


class LibraryView(QTreeWidget):
    """Documents and memories with kind icon, title, author, size, memory status and progress."""

    memorize_requested = Signal(list)  # [document ids]
    open_document_requested = Signal(int)
    rename_document_requested = Signal(int)
    delete_document_requested = Signal(int)
    rename_memory_requested = Signal(str)
    delete_memory_requested = Signal(str)
    export_memory_requested = Signal(str)
    export_model_requested = Signal(str)
    memory_details_requested = Signal(str)
    memory_progress_requested = Signal(str)
    resume_memory_requested = Signal(str)
    memory_activated = Signal(str)  # pick this memory in the question panel

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("libraryView")
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(COLUMNS)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.itemDoubleClicked.connect(self._double_clicked)
        self.setItemDelegateForColumn(COL_PROGRESS, ProgressDelegate(self))
        header = self.header()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        header.setSectionResizeMode(COL_TITLE, QHeaderView.ResizeMode.Stretch)
        # Authors and the memories holding a book can be long lists: their widths follow the
        # view's (see _fit_columns) so that every column stays in sight without a scroll bar.
        for col in (COL_AUTHOR, COL_SIZE, COL_STATUS, COL_PROGRESS):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._fit_columns()

        self._docs_group = self._group("Documents", 0)
        self._mems_group = self._group("Memories", 1)
        self._sort: tuple[int, Qt.SortOrder] | None = None  # set when a header is clicked
        self._filter: tuple[str, str] = ("", "Everything")
        header.setSectionsClickable(True)
        header.sectionClicked.connect(self._header_clicked)
        self._doc_items: dict[int, QTreeWidgetItem] = {}
        self._mem_items: dict[str, QTreeWidgetItem] = {}

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Share the width so that nothing is cut that fits: Size, Memory and Progress as wide as
        their texts (Memory up to a cap), Progress only while some memory has a bar, Author only
        where the title keeps room (else it is in the title's tooltip), and Title the rest."""
        width = self.viewport().width()
        header, fm = self.header(), self.fontMetrics()
        items = [*self._doc_items.values(), *self._mem_items.values()] if hasattr(self, "_doc_items") else []
        pad = fm.horizontalAdvance("M") + 6

        def text_width(col: int, cap: int) -> int:
            texts = [COLUMNS[col]] + [i.text(col) for i in items]
            return min(cap, max(fm.horizontalAdvance(t) for t in texts) + pad)

        bars = any(i.data(COL_PROGRESS, PROGRESS_ROLE) is not None for i in items)
        sizes = {COL_SIZE: text_width(COL_SIZE, 120),
                 COL_STATUS: text_width(COL_STATUS, max(70, min(180, int(width * 0.28)))),
                 COL_PROGRESS: max(60, fm.horizontalAdvance("100%") + pad) if bars else 0}
        title_room = width - sum(sizes.values())
        author = text_width(COL_AUTHOR, max(60, int(width * 0.22)))
        show_author = title_room - author >= max(140, title_room // 2)
        sizes[COL_AUTHOR] = author if show_author else 0
        for col, size in sizes.items():
            header.setSectionHidden(col, size == 0)
            if size:
                header.resizeSection(col, size)

    # -- filling ------------------------------------------------------------------------------
    def _group(self, title: str, rank: int) -> QTreeWidgetItem:
        item = SortItem(self, [title])
        item.setData(0, KIND_ROLE, "group")
        item.setData(0, KEY_ROLE, rank)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setFirstColumnSpanned(True)
        item.setExpanded(True)
        return item

    def set_rows(self, documents: list[DocumentRow], memories: list[MemoryRow]) -> None:
        """Replace the content, keeping the selection where the same items still exist."""
        selected = {(i.data(0, KIND_ROLE), i.data(0, KEY_ROLE)) for i in self.selectedItems()}
        self._docs_group.takeChildren()
        self._mems_group.takeChildren()
        self._doc_items.clear()
        self._mem_items.clear()
        for doc in documents:
            self._put_document(doc)
        for mem in memories:
            self._put_memory(mem)
        for kind, key in selected:
            item = (self._doc_items if kind == "document" else self._mem_items).get(key)
            if item is not None:
                item.setSelected(True)
        self._update_group_titles()
        self.apply_filter(*self._filter)
        if self._sort is not None:
            self.sortItems(*self._sort)
        self._fit_columns()

    # -- sorting and filtering ------------------------------------------------------------------
    def _header_clicked(self, col: int) -> None:
        """First click sorts ascending, the next one descending (by size, progress or text)."""
        same = self._sort is not None and self._sort[0] == col
        order = (Qt.SortOrder.DescendingOrder if same and self._sort[1] == Qt.SortOrder.AscendingOrder
                 else Qt.SortOrder.AscendingOrder)
        self.sort_by(col, order)

    def sort_by(self, col: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort = (col, order)
        self.header().setSortIndicatorShown(True)
        self.header().setSortIndicator(col, order)
        self.sortItems(col, order)

    def apply_filter(self, text: str, kind: str = "Everything") -> None:
        """Hide the rows that do not match (see library_search.row_matches); groups stay."""
        from app.ui.library_search import row_matches

        self._filter = (text, kind)
        for item in self._doc_items.values():
            doc_kind, memorized = item.data(0, FILTER_ROLE) or ("book", False)
            texts = [item.text(c) for c in (COL_TITLE, COL_AUTHOR, COL_STATUS)]
            item.setHidden(not row_matches(texts, doc_kind, memorized, text, kind))
        for item in self._mem_items.values():
            item.setHidden(kind != "Everything" or not row_matches([item.text(COL_TITLE)], "", False,
                                                                     text, "Everything"))
        self._update_group_titles()

    def visible_document_ids(self) -> list[int]:
        return [key for key, item in self._doc_items.items() if not item.isHidden()]

    @staticmethod
    def _row(items: dict, group: QTreeWidgetItem, kind: str, key, icon: str, title: str) -> QTreeWidgetItem:
        """The row of ``key`` under ``group`` (made on first use), marked as a ``kind`` row, with
        its icon and title: what a document's and a memory's rows share."""
        item = items.get(key)
        if item is None:
            item = items[key] = SortItem(group)
        item.setData(0, KIND_ROLE, kind)
        item.setData(0, KEY_ROLE, key)
        item.setIcon(COL_TITLE, kind_icon(icon))
        item.setText(COL_TITLE, title)
        return item

    def upsert_document(self, doc: DocumentRow) -> QTreeWidgetItem:
        """Add or refresh one document row (used to show an import at once)."""
        item = self._put_document(doc)
        self._update_group_titles()
        self._fit_columns()
        return item

    def upsert_memory(self, mem: MemoryRow) -> QTreeWidgetItem:
        item = self._put_memory(mem)
        self._update_group_titles()
        self._fit_columns()
        return item

    # One row's cells; the group titles and the column widths, which read every row, are for
    # the caller to redo once (set_rows fills hundreds of rows, then fits once).
    def _put_document(self, doc: DocumentRow) -> QTreeWidgetItem:
        item = self._row(self._doc_items, self._docs_group, "document", doc.id, doc.kind, doc.title)
        by = f"\n{', '.join(doc.authors)}" if doc.authors else ""  # the Author column may be hidden
        item.setToolTip(COL_TITLE, f"{doc.title}{by}\n{doc.kind}")
        item.setText(COL_AUTHOR, ", ".join(doc.authors))
        item.setToolTip(COL_AUTHOR, ", ".join(doc.authors))
        item.setText(COL_SIZE, fmt_size(doc.characters))
        item.setData(COL_SIZE, SORT_ROLE, doc.characters)
        # "Not memorized" keeps a partly memorized document in sight: it has chapters to go.
        item.setData(0, FILTER_ROLE, (doc.kind, doc.memorized))
        item.setText(COL_STATUS, doc.memory_text() or "not memorized")
        item.setToolTip(COL_STATUS, doc.memory_tip())
        item.setForeground(COL_STATUS, QColor("#374151" if doc.memories else "#9aa3b2"))
        return item

    def _put_memory(self, mem: MemoryRow) -> QTreeWidgetItem:
        item = self._row(self._mem_items, self._mems_group, "memory", mem.name, "memory", mem.name)
        # An imported memory holds no document of this library: its note says where it came from.
        item.setToolTip(COL_TITLE, "Sources: " + ", ".join(mem.sources) if mem.sources else
                        mem.message or "Nothing memorized yet")
        item.setText(COL_AUTHOR, "")
        held = mem.tokens_held if mem.tokens_held is not None else mem.tokens_total
        item.setText(COL_SIZE, fmt_tokens(held or None))  # what it holds, not its last run
        item.setToolTip(COL_SIZE, f"Holds {held:,} tokens" if held else "")
        item.setData(COL_SIZE, SORT_ROLE, held)
        item.setData(COL_PROGRESS, SORT_ROLE, 1.0 if mem.progress is None else mem.progress)
        item.setText(COL_STATUS, STATUS_TEXT.get(mem.status, mem.status))
        if mem.message:
            item.setToolTip(COL_STATUS, mem.message)
        item.setData(COL_PROGRESS, PROGRESS_ROLE, mem.progress)
        return item

    def update_progress(self, name: str, status: str, tokens_done: int, tokens_total: int) -> None:
        """Cheap per-chunk refresh of one memory row's status and bar (no full reload)."""
        item = self._mem_items.get(name)
        if item is None:
            item = self.upsert_memory(MemoryRow(name=name, status=status))
        text_before = item.text(COL_STATUS)
        item.setText(COL_STATUS, STATUS_TEXT.get(status, status))
        # Size says what the memory holds; it grows when a run is saved (refresh), not per chunk
        had_bar = item.data(COL_PROGRESS, PROGRESS_ROLE) is not None
        if status == "done":
            item.setData(COL_PROGRESS, PROGRESS_ROLE, None)
        elif tokens_total:  # events without counts (paused, queued) keep the bar as it was
            item.setData(COL_PROGRESS, PROGRESS_ROLE, max(0.0, min(1.0, tokens_done / tokens_total)))
        # the widths change only with the Memory column's text or a bar coming or going (a fit
        # measures every row: not at every chunk)
        if had_bar != (item.data(COL_PROGRESS, PROGRESS_ROLE) is not None) or item.text(COL_STATUS) != text_before:
            self._fit_columns()

    def _update_group_titles(self) -> None:
        """"Documents (3)", or "Documents (1 of 3 shown)" while a filter hides some rows."""
        for group, title in ((self._docs_group, "Documents"), (self._mems_group, "Memories")):
            total = group.childCount()
            shown = sum(not group.child(i).isHidden() for i in range(total))
            group.setText(0, f"{title} ({total})" if shown == total else f"{title} ({shown} of {total} shown)")

    # -- queries ------------------------------------------------------------------------------
    def is_empty(self) -> bool:
        return not self._doc_items and not self._mem_items

    def document_ids(self) -> list[int]:
        return list(self._doc_items)

    def memory_names(self) -> list[str]:
        return list(self._mem_items)

    def document_item(self, doc_id: int) -> QTreeWidgetItem | None:
        return self._doc_items.get(doc_id)

    def memory_item(self, name: str) -> QTreeWidgetItem | None:
        return self._mem_items.get(name)

    def selected_document_ids(self) -> list[int]:
        return [i.data(0, KEY_ROLE) for i in self.selectedItems() if i.data(0, KIND_ROLE) == "document"]

    # -- actions ------------------------------------------------------------------------------
    def context_menu_for(self, item: QTreeWidgetItem | None) -> QMenu | None:
        """Build (not show) the context menu of an item; separated so tests can trigger actions."""
        if item is None:
            return None
        kind, key = item.data(0, KIND_ROLE), item.data(0, KEY_ROLE)
        menu = QMenu(self)
        if kind == "document":
            ids = self.selected_document_ids() if item.isSelected() else [key]
            ids = ids or [key]
            label = "Memorize…" if len(ids) == 1 else f"Memorize {len(ids)} documents…"
            _add(menu, label, lambda: self.memorize_requested.emit(ids), icon("memory"))
            _add(menu, "Read", lambda: self.open_document_requested.emit(key), icon("book"))
            menu.addSeparator()
            _add(menu, "Rename…", lambda: self.rename_document_requested.emit(key), shortcut="F2")
            _add(menu, "Delete…", lambda: self.delete_document_requested.emit(key), shortcut="Del")
        elif kind == "memory":
            status = (item.text(COL_STATUS) or "").lower()
            _add(menu, "Ask this memory", lambda: self.memory_activated.emit(key), icon("ask"))
            if status in ("memorizing", "paused", "queued"):
                _add(menu, "Show progress…", lambda: self.memory_progress_requested.emit(key))
            if status in ("interrupted", "stopped", "failed"):
                _add(menu, "Resume memorizing", lambda: self.resume_memory_requested.emit(key),
                     icon("play"))
            _add(menu, "Sources, settings and curve…", lambda: self.memory_details_requested.emit(key))
            menu.addSeparator()
            _add(menu, "Export memory file…", lambda: self.export_memory_requested.emit(key))
            _add(menu, "Export merged model folder…", lambda: self.export_model_requested.emit(key))
            menu.addSeparator()
            _add(menu, "Rename…", lambda: self.rename_memory_requested.emit(key), shortcut="F2")
            _add(menu, "Delete…", lambda: self.delete_memory_requested.emit(key), shortcut="Del")
        else:
            return None
        return menu

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        """Delete deletes, F2 renames, Enter opens: the current row, as in a file manager."""
        item = self.currentItem()
        kind = item.data(0, KIND_ROLE) if item is not None else None
        key = item.data(0, KEY_ROLE) if item is not None else None
        signals = {
            (Qt.Key.Key_Delete, "document"): self.delete_document_requested,
            (Qt.Key.Key_Delete, "memory"): self.delete_memory_requested,
            (Qt.Key.Key_F2, "document"): self.rename_document_requested,
            (Qt.Key.Key_F2, "memory"): self.rename_memory_requested,
            (Qt.Key.Key_Return, "document"): self.open_document_requested,
            (Qt.Key.Key_Enter, "document"): self.open_document_requested,
            (Qt.Key.Key_Return, "memory"): self.memory_activated,
            (Qt.Key.Key_Enter, "memory"): self.memory_activated,
        }
        signal = signals.get((event.key(), kind))
        if signal is not None and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            signal.emit(key)
            return
        super().keyPressEvent(event)

    def _context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu_for(self.itemAt(pos))
        if menu is not None:
            menu.exec(self.viewport().mapToGlobal(pos))

    def _double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        kind, key = item.data(0, KIND_ROLE), item.data(0, KEY_ROLE)
        if kind == "memory":
            self.memory_activated.emit(key)
        elif kind == "document":
            self.open_document_requested.emit(key)


def _add(menu: QMenu, text: str, slot, qicon=None, shortcut: str | None = None) -> QAction:
    action = menu.addAction(text)
    if qicon is not None:
        action.setIcon(qicon)
    if shortcut is not None:  # shown beside the item, so the key is learned from the menu
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(slot)
    return action
