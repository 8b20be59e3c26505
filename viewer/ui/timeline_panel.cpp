// timeline_panel.cpp — the bottom bar: the timeline scrubber over the kept
// snapshots (replaying growth and evacuation step by step), "follow" to
// track the newest, each source's state (connected / disconnected and
// retrying), and the last refused snapshot's reason.
#include <imgui.h>

#include <string>

#include "view.h"

namespace goroscope::view {

void draw_timeline(View& v, const std::vector<std::unique_ptr<Source>>& sources) {
  int n = static_cast<int>(v.history_.size());
  if (n > 0) {
    int cur = static_cast<int>(v.cursor_);
    ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - 260);
    if (ImGui::SliderInt("##timeline", &cur, 0, n - 1, "snapshot %d")) {
      v.cursor_ = static_cast<size_t>(cur);
      v.follow_ = v.cursor_ + 1 == v.history_.size();
    }
    ImGui::SameLine();
    ImGui::Checkbox("follow newest", &v.follow_);
    ImGui::SameLine();
    ImGui::Text("%d kept, %zu received", n, v.received());
  } else {
    ImGui::TextUnformatted("no snapshot yet");
  }
  ImGui::SetNextItemWidth(260);
  ImGui::InputTextWithHint("##open", "snapshot file to open", v.open_path_, sizeof v.open_path_);
  ImGui::SameLine();
  if (ImGui::Button("Open") && v.open_path_[0]) {
    v.open(v.open_path_);
    v.open_path_[0] = 0;
  }
  ImGui::SameLine();
  for (const auto& s : sources) {
    SourceStatus st = s->status();
    ImGui::TextColored(st.ok ? ImVec4(0.5f, 0.9f, 0.5f, 1) : ImVec4(1, 0.6f, 0.3f, 1), "%s: %s",
                       st.name.c_str(), st.state.c_str());
    ImGui::SameLine();
  }
  if (!v.refusal_.empty())
    ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "refused a snapshot from %s: %s",
                       v.refusal_origin_.c_str(), v.refusal_.c_str());
  else
    ImGui::NewLine();
}

}  // namespace goroscope::view
