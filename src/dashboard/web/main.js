document.getElementById('app').textContent = 'Loki';
