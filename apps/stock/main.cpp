// stock: fire-and-forget goroutines. Each product's stock is updated by its own
// goroutine, started like Go's `go UpdateStock(p, true)`: the function and its
// arguments are evaluated and copied at the go statement, the body runs later,
// and main never waits for it to start. The goroutines report their new stock
// levels over a channel, so the output does not depend on which finishes first.
//
// The Go original:
//   type Product struct { Name string; Stock int }
//
//   func UpdateStock(p Product, inStock bool, updates chan<- Product) {
//       time.Sleep(time.Duration(10*len(p.Name)) * time.Millisecond) // a slow
//       database write if inStock { p.Stock += 10 } else { p.Stock = 0 }
//       updates <- p
//   }
//
//   func main() {
//       products := []Product{{"apple", 3}, {"banana", 0}, {"cherry", 12},
//       {"dates", 5}} updates := make(chan Product) for _, p := range products
//       {
//           go UpdateStock(p, true, updates)   // fire and forget: p is copied
//           here
//       }
//       go UpdateStock(Product{"elder", 4}, false, updates)
//       products[0].Stock = -1                 // the goroutine has its own
//       copy stock := map[string]int{} for i := 0; i <= len(products); i++ {
//           u := <-updates
//           stock[u.Name] = u.Stock
//       }
//       for _, name := range []string{"apple", "banana", "cherry", "dates",
//       "elder"} {
//           fmt.Printf("%-7s %3d\n", name, stock[name])
//       }
//   }
//
// Run: stock   (build/<dir>/apps/stock/stock --config-file=config/default.ini)
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <rotina/chan.hpp>
#include <rotina/goroutine.hpp>
#include <rotina/runtime.hpp>

using namespace rotina;
using namespace std::chrono_literals;

struct product {
  std::string name;
  int stock;
};

task<> update_stock(product p, bool in_stock, send_chan<product> updates) {
  co_await sleep(10ms * p.name.size()); // a slow database write
  if (in_stock)
    p.stock += 10;
  else
    p.stock = 0;
  co_await updates.send(p);
}

int main(int argc, char** argv) {
  runtime rt{argc, argv};
  std::vector<product> products{
    {"apple", 3}, {"banana", 0}, {"cherry", 12}, {"dates", 5}};
  auto updates = make_chan<product>(rt);
  for (auto& p : products)
    go(rt, update_stock, p, true, updates); // fire and forget: p is copied here
  go(rt, update_stock, product{"elder", 4}, false, updates);
  products[0].stock = -1; // the goroutine has its own copy
  std::map<std::string, int> stock;
  for (size_t i = 0; i <= products.size(); ++i) {
    auto u = updates.recv_blocking();
    stock[u->name] = u->stock;
  }
  for (auto name : {"apple", "banana", "cherry", "dates", "elder"})
    std::printf("%-7s %3d\n", name, stock[name]);
}
