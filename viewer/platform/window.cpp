// window.cpp — GLFW + OpenGL 3 + ImGui backends, drops, PNG screenshots.
#include "window.h"

#define GL_GLEXT_PROTOTYPES
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>
#include <stb_image_write.h>

#include <vector>

namespace goroscope::view {

Window::Window(int width, int height, const char* title, std::string* error) {
  glfwSetErrorCallback([](int, const char*) {});
  if (!glfwInit()) {
    *error = "cannot initialize GLFW (no display? run under xvfb-run, or use --screenshot)";
    return;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  win_ = glfwCreateWindow(width, height, title, nullptr, nullptr);
  if (!win_) {
    *error = "cannot create an OpenGL 3 window";
    glfwTerminate();
    return;
  }
  glfwMakeContextCurrent(win_);
  glfwSwapInterval(1);
  glfwSetWindowUserPointer(win_, this);
  glfwSetDropCallback(win_, &Window::on_drop);
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // no imgui.ini written next to the user's files
  ImGui::StyleColorsDark();
  ImGui_ImplGlfw_InitForOpenGL(win_, true);
  ImGui_ImplOpenGL3_Init("#version 130");
}

Window::~Window() {
  if (!win_) return;
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(win_);
  glfwTerminate();
}

bool Window::should_close() const { return glfwWindowShouldClose(win_); }

void Window::on_drop(GLFWwindow* w, int n, const char** paths) {
  auto* self = static_cast<Window*>(glfwGetWindowUserPointer(w));
  for (int i = 0; i < n; i++) self->drops_.emplace_back(paths[i]);
}

std::vector<std::string> Window::take_drops() {
  std::vector<std::string> out;
  out.swap(drops_);
  return out;
}

void Window::frame(const std::function<void(float, float)>& draw) {
  glfwPollEvents();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  ImGui::NewFrame();
  int w, h;
  glfwGetFramebufferSize(win_, &w, &h);
  draw(static_cast<float>(w), static_cast<float>(h));
  ImGui::Render();
  glViewport(0, 0, w, h);
  glClearColor(0.08f, 0.08f, 0.1f, 1);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  glFinish();
  if (!shot_path_.empty()) {
    shot_error_ = write_png(shot_path_, w, h);
    shot_path_.clear();
    shot_done_ = true;
  }
  glfwSwapBuffers(win_);
}

std::string Window::write_png(const std::string& path, int w, int h) {
  std::vector<unsigned char> px(static_cast<size_t>(w) * h * 4);
  glReadBuffer(GL_BACK);  // the frame just rendered, not yet swapped
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
  // OpenGL's rows go bottom-up; PNG's top-down.
  std::vector<unsigned char> flipped(px.size());
  for (int y = 0; y < h; y++)
    std::copy_n(&px[static_cast<size_t>(h - 1 - y) * w * 4], static_cast<size_t>(w) * 4,
                &flipped[static_cast<size_t>(y) * w * 4]);
  if (!stbi_write_png(path.c_str(), w, h, 4, flipped.data(), w * 4)) return "cannot write " + path;
  return "";
}

}  // namespace goroscope::view
