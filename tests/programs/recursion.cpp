// recursion.cpp — deep recursion on a goroutine: a tree walk that reports
// the leaf it finds on a channel nobody reads, 200 calls down; and a
// recursive-descent parser nested 40 levels that waits for more input.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "corpus.h"

struct Node {
  std::string name;
  std::vector<std::unique_ptr<Node>> kids;
};

std::unique_ptr<Node> build_chain(int depth) {
  auto root = std::make_unique<Node>();
  root->name = std::to_string(0);
  Node* at = root.get();
  for (int d = 1; d < depth; d++) {
    at->kids.push_back(std::make_unique<Node>());
    at = at->kids.back().get();
    at->name = std::to_string(d);
  }
  return root;
}

int walk(const Node& n, goro::Chan<std::string> found, int depth) {
  std::string here = n.name + "@" + std::to_string(depth);
  if (n.kids.empty()) {
    found.send(here);  // @park walker fn=walk
    return depth;
  }
  int deepest = depth;
  for (const auto& k : n.kids) deepest = std::max(deepest, walk(*k, found, depth + 1));  // @call walker 1 x199
  return deepest + static_cast<int>(here.size() % 2);
}

// A parser over a stream of characters: expr := '(' expr ')' | digit.
struct Parser {
  goro::Chan<char> input;
  char next() { return input.recv(); }  // @park parser fn=Parser::next
  int expr() {
    char c = next();  // @call parser 1
    if (c == '(') {
      int v = expr();  // @call parser 2 x40
      next();
      return v + 1;
    }
    return c - '0';
  }
};

int main() {
  return goro::run([] {
    auto root = build_chain(200);
    auto found = goro::make_chan<std::string>();
    goro::go([&root, found] {  // @go walker
      corpus::mark("walker");
      walk(*root, found, 1);  // @call walker 2
    });

    auto input = goro::make_chan<char>(64);
    for (int i = 0; i < 40; i++) input.send('(');
    goro::go([input] {  // @go parser
      corpus::mark("parser");
      Parser p{input};
      std::printf("%d\n", p.expr());  // @call parser 3
    });
    corpus::settle();
    checkpoint();
    corpus::hold();
    return 0;
  });
}
