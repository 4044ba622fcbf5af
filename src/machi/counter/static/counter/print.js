// Buttons marked data-print print the page (the queue-ticket slip). No inline script:
// the Content-Security-Policy allows only scripts served by machi itself.
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) {
    window.print();
  }
});
