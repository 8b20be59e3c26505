// table_panel.cpp — the Table panel: every goroutine, sortable by column,
// filtered by a substring of any column, optionally grouped like
// `goroutines -group` (by user location, status or wait reason; at most
// 5 rows per group shown, with the group's total).
#include <imgui.h>

#include <algorithm>
#include <map>
#include <string>

#include "view.h"

namespace goroscope::view {

void draw_table_panel(View& v) {
  const Snapshot& s = *v.shown_;
  ImGui::SetNextItemWidth(240);
  ImGui::InputTextWithHint("##filter", "filter (any column)", v.filter_, sizeof v.filter_);
  ImGui::SameLine();
  const char* groups[] = {"no grouping", "group by user location", "group by status",
                          "group by wait reason", "group by name"};
  ImGui::SetNextItemWidth(220);
  ImGui::Combo("##group", &v.group_by_, groups, 5);
  struct Row {
    const Goroutine* g;
    std::string loc;
  };
  std::vector<Row> rows;
  std::string f = v.filter_;
  for (const Goroutine& g : s.goroutines) {
    Row r{&g, first_user_frame(g)};
    if (!f.empty()) {
      std::string all = std::to_string(g.goid) + " " + g.status + " " + g.wait_reason + " " +
                        r.loc + " " + g.created_function + " " + g.name;
      if (all.find(f) == std::string::npos) continue;
    }
    rows.push_back(std::move(r));
  }
  ImGuiTableFlags flags = ImGuiTableFlags_Sortable | ImGuiTableFlags_RowBg |
                          ImGuiTableFlags_Borders | ImGuiTableFlags_ScrollY |
                          ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingFixedFit;
  if (!ImGui::BeginTable("goroutines", 7, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("goid", ImGuiTableColumnFlags_DefaultSort, 70);
  ImGui::TableSetupColumn("name", 0, 110);
  ImGui::TableSetupColumn("status", 0, 90);
  ImGui::TableSetupColumn("wait reason", 0, 160);
  ImGui::TableSetupColumn("waiting", 0, 80);
  ImGui::TableSetupColumn("location", 0, 400);
  ImGui::TableSetupColumn("created by", 0, 260);
  ImGui::TableHeadersRow();
  if (ImGuiTableSortSpecs* ss = ImGui::TableGetSortSpecs(); ss && ss->SpecsCount > 0) {
    const ImGuiTableColumnSortSpecs& sp = ss->Specs[0];
    bool asc = sp.SortDirection == ImGuiSortDirection_Ascending;
    auto less = [&](const Row& a, const Row& b) {
      switch (sp.ColumnIndex) {
        case 1:
          return a.g->name < b.g->name;
        case 2:
          return a.g->status < b.g->status;
        case 3:
          return a.g->wait_reason < b.g->wait_reason;
        case 4:
          return a.g->waiting_ns < b.g->waiting_ns;
        case 5:
          return a.loc < b.loc;
        case 6:
          return a.g->created_function < b.g->created_function;
        default:
          return a.g->goid < b.g->goid;
      }
    };
    std::stable_sort(rows.begin(), rows.end(),
                     [&](const Row& a, const Row& b) { return asc ? less(a, b) : less(b, a); });
  }
  auto row = [&](const Row& r) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::Text("%llu", static_cast<unsigned long long>(r.g->goid));
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(r.g->name.c_str());
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(r.g->status.c_str());
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(r.g->wait_reason.c_str());
    ImGui::TableNextColumn();
    if (r.g->status == "waiting") ImGui::TextUnformatted(human_ns(r.g->waiting_ns).c_str());
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(r.loc.c_str());
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(r.g->created_function.c_str());
  };
  if (v.group_by_ == 0) {
    ImGuiListClipper clip;
    clip.Begin(static_cast<int>(rows.size()));
    while (clip.Step())
      for (int i = clip.DisplayStart; i < clip.DisplayEnd; i++) row(rows[i]);
  } else {
    std::map<std::string, std::vector<const Row*>> groups_;
    for (const Row& r : rows)
      groups_[v.group_by_ == 1   ? r.loc
              : v.group_by_ == 2 ? r.g->status
              : v.group_by_ == 3 ? r.g->wait_reason
                                 : r.g->name]
          .push_back(&r);
    for (const auto& [key, members] : groups_) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextColored(ImVec4(1, 0.85f, 0.3f, 1), "%zu", members.size());
      ImGui::TableNextColumn();
      ImGui::TextColored(ImVec4(1, 0.85f, 0.3f, 1), "%s", key.empty() ? "(none)" : key.c_str());
      for (size_t i = 0; i < members.size() && i < 5; i++) row(*members[i]);
    }
  }
  ImGui::EndTable();
}

}  // namespace goroscope::view
