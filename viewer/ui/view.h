// view.h — goroscope-view's UI: one View that owns the panels' state and
// reads the model; each panel is drawn by its own file (map_panel.cpp,
// goroutine_panel.cpp, table_panel.cpp, timeline_panel.cpp). Panels only
// read the model (snapshot, graph, geometry); nothing here parses or does
// I/O: sources deliver through the Inbox.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "graph.h"
#include "history.h"
#include "mapgeom.h"
#include "sources.h"

namespace goroscope::view {

enum class Panel { map, goroutines, table };
const char* panel_name(Panel p);
bool parse_panel(const std::string& s, Panel* p);

// Camera: world -> screen is (w - pos) * zoom + origin.
struct Camera {
  float x = 0, y = 0, zoom = 1;
  bool fitted = false;
  bool moved = false;          // the user panned or zoomed: no more refitting
  float fit_w = 0, fit_h = 0;  // the world size fitted last
  // fit frames a world of w x h in a view of vw x vh (again when the world
  // changes size, as a map grows, until the user moves the camera).
  void fit(float w, float h, float vw, float vh, float margin, float max_zoom);
};

class View {
 public:
  View(Inbox& inbox, std::vector<std::unique_ptr<Source>>& sources)
      : inbox_(inbox), sources_(sources) {}
  void frame(float width, float height);  // one ImGui frame's windows
  Panel panel = Panel::map;
  bool select_panel_ = true;  // make `panel` the selected tab at the next frame
  bool headless_ = false;     // screenshot mode: no hover tooltips
  bool has_snapshot() const { return !history_.empty(); }
  size_t received() const { return received_; }
  void open(const std::string& path);  // an Open dialog's / a drop's file

  // state the panels share
  History history_{256};
  size_t cursor_ = 0;    // index into history_
  bool follow_ = true;   // cursor_ follows the newest snapshot
  std::string refusal_;  // the last malformed snapshot's reason
  std::string refusal_origin_;
  // derived from the snapshot at cursor_ (rebuilt when it changes)
  const Snapshot* shown_ = nullptr;
  Graph graph_;
  std::vector<MapGeom> geoms_;
  std::vector<std::vector<uint8_t>> fills_cur_, fills_old_;  // per map (mapgeom.h: fills)
  std::vector<BucketIndex> index_cur_, index_old_;           // per map (chains by bucket)
  // per-panel state
  int map_index_ = 0;
  Camera map_cam_, graph_cam_;
  char search_[128] = {};
  std::vector<Hit> search_hits_;
  int selected_node_ = -1;
  char filter_[128] = {};
  int group_by_ = 0;
  char open_path_[512] = {};

 private:
  void pull();
  void rebuild();
  Inbox& inbox_;
  std::vector<std::unique_ptr<Source>>& sources_;
  size_t received_ = 0;
};

// The panels (one file each).
void draw_map_panel(View& v);
void draw_goroutine_panel(View& v);
void draw_table_panel(View& v);
void draw_timeline(View& v, const std::vector<std::unique_ptr<Source>>& sources);

// Shared drawing helpers (view.cpp).
unsigned slot_colour(SlotState s);
unsigned status_colour(const std::string& status, const std::string& reason);
std::string human_ns(int64_t ns);
std::string first_user_frame(const Goroutine& g);

}  // namespace goroscope::view
