// window.h — the platform glue: a GLFW window with an OpenGL 3 context and
// Dear ImGui's GLFW + OpenGL3 backends (Debian's libimgui.a carries them),
// file drops, and screenshots (glReadPixels of the back buffer, written as
// PNG with stb_image_write). Apart from the model and the UI.
#pragma once

#include <functional>
#include <string>
#include <vector>

struct GLFWwindow;

namespace goroscope::view {

class Window {
 public:
  Window(int width, int height, const char* title, std::string* error);
  ~Window();
  bool ok() const { return win_ != nullptr; }
  bool should_close() const;
  // frame runs one frame: events, ImGui new frame, draw(w, h), render, swap.
  void frame(const std::function<void(float, float)>& draw);
  // capture_next: the next frame() writes its picture (the back buffer,
  // before the swap) to path as PNG; shot_result() is then "" or the error.
  void capture_next(const std::string& path) { shot_path_ = path; }
  bool shot_done() const { return shot_done_; }
  const std::string& shot_result() const { return shot_error_; }
  std::vector<std::string> take_drops();

 private:
  GLFWwindow* win_ = nullptr;
  std::vector<std::string> drops_;
  std::string shot_path_, shot_error_;
  bool shot_done_ = false;
  std::string write_png(const std::string& path, int w, int h);
  static void on_drop(GLFWwindow* w, int n, const char** paths);
};

}  // namespace goroscope::view
